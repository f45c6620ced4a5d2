/** Renders a page's root component into the `#app` element of its HTML entry. */
import { render, type VNode } from 'preact';
import './styles.css';

export function mount(page: VNode): void {
  const root = document.getElementById('app');
  if (!root) throw new Error('The page has no #app element to render into.');
  render(page, root);
}
