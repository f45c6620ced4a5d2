// The parts of jsonld.js's own algorithms the broker calls directly (IRI expansion and compaction
// against a processed active context). They are stable internals of the library, not re-implemented here.
declare module 'jsonld/lib/context.js' {
  const api: {
    getInitialContext(options: Record<string, unknown>): unknown;
    expandIri(
      activeCtx: unknown,
      value: string,
      relativeTo: { vocab?: boolean; base?: boolean },
      options: Record<string, unknown>,
    ): string | null;
  };
  export default api;
}
declare module 'jsonld/lib/compact.js' {
  const api: {
    compactIri(args: {
      activeCtx: unknown;
      iri: string;
      value?: unknown;
      relativeTo?: { vocab?: boolean };
    }): string;
  };
  export default api;
}
