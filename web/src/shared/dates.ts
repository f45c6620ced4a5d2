/** Dates are shown in Japan time (JST, Asia/Tokyo) whatever the device's own time zone is. */
import { type Lang, locales } from './i18n.ts';

const dateTimeOptions: Intl.DateTimeFormatOptions = {
  timeZone: 'Asia/Tokyo',
  dateStyle: 'long',
  timeStyle: 'short',
};

/** A date and time such as 「2025年4月2日 9:30」 or "2 April 2025 at 09:30", in JST. */
export function formatDateTime(date: Date, lang: Lang): string {
  return new Intl.DateTimeFormat(locales[lang], dateTimeOptions).format(date);
}
