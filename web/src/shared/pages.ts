/** The pages of the web shell: one entry per HTML page, used by the layout's title and footer links. */
import type { MessageKey } from './i18n.ts';

export type PageId = 'portal' | 'console' | 'dashboard';

export interface Page {
  path: string;
  titleKey: MessageKey;
}

export const pages: Record<PageId, Page> = {
  portal: { path: '/', titleKey: 'page.portal' },
  console: { path: '/console', titleKey: 'page.console' },
  dashboard: { path: '/dashboard', titleKey: 'page.dashboard' },
};

export const pageIds = Object.keys(pages) as PageId[];
