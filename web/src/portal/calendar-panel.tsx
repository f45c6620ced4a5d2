/**
 * Myカレンダー on My Page: the resident's garbage days for the next two weeks, in large type with
 * the day of the week; choosing their area (and the evening reminder); and adding the calendar to
 * their phone's calendar app through a private address they can stop at any time.
 */
import { useState } from 'preact/hooks';
import { useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import {
  type CalendarSettings,
  createFeed,
  fetchAreas,
  fetchCalendar,
  fetchSettings,
  type MyCalendar,
  saveSettings,
  stopFeed,
} from './calendar-api.ts';
import { LoadStatus } from './load-status.tsx';
import { Refused } from './me-api.ts';
import { useLoaded } from './use-loaded.ts';

interface Props {
  session: ResidentSession;
  onEnded: () => void;
}

interface Loaded {
  calendar: MyCalendar;
  settings: CalendarSettings;
  areas: string[];
}

function dayLabel(date: string, lang: 'ja' | 'en'): string {
  return new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: 'UTC',
    month: 'long',
    day: 'numeric',
    weekday: 'short',
  }).format(new Date(`${date}T00:00:00Z`));
}

export function CalendarPanel({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const loaded = useLoaded<Loaded>(async () => {
    const calendar = await fetchCalendar(session);
    const [settings, areas] = await Promise.all([
      fetchSettings(session),
      fetchAreas(calendar.municipality.code),
    ]);
    return { calendar, settings, areas };
  }, onEnded);
  const [choosing, setChoosing] = useState(false);
  const [feed, setFeed] = useState<{ url: string; webcalUrl: string } | undefined>();
  const [message, setMessage] = useState<string | undefined>();

  const save = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const area = String(data.get('area') ?? '');
    try {
      await saveSettings(session, {
        garbageArea: area || null,
        eveningReminder: data.get('reminder') === 'on',
      });
      setChoosing(false);
      setMessage(t('calendar.saved'));
      await loaded.reload();
    } catch (failure) {
      loaded.failed(failure);
    }
  };
  const subscribe = async () => {
    try {
      setFeed(await createFeed(session));
      await loaded.reload();
    } catch (failure) {
      loaded.failed(failure);
    }
  };
  const unsubscribe = async () => {
    try {
      await stopFeed(session);
      setFeed(undefined);
      setMessage(t('calendar.feed.stopped'));
      await loaded.reload();
    } catch (failure) {
      if (!(failure instanceof Refused && failure.status === 404)) loaded.failed(failure);
    }
  };

  const state = loaded.state;
  return (
    <section class="panel my-calendar" aria-labelledby="calendar-heading">
      <h2 id="calendar-heading">{t('calendar.heading')}</h2>
      <LoadStatus state={state} message={message} />
      {state.status === 'ready' && state.value.areas.length === 0 && (
        <p>
          {t('calendar.noSchedule', {
            city:
              lang === 'en'
                ? state.value.calendar.municipality.nameEn
                : state.value.calendar.municipality.name,
          })}
        </p>
      )}
      {state.status === 'ready' && state.value.areas.length > 0 && (
        <>
          {state.value.calendar.garbageArea && !choosing && (
            <>
              <p class="lead">{t('calendar.area', { area: state.value.calendar.garbageArea })}</p>
              {!state.value.calendar.garbageAreaKnown && <p class="form-error">{t('calendar.areaGone')}</p>}
              <ul class="garbage-days">
                {state.value.calendar.garbageDays.map((d) => (
                  <li key={`${d.date}:${d.category}`} class="garbage-day">
                    <span class="garbage-day__date">{dayLabel(d.date, lang)}</span>
                    <span class="garbage-day__category">
                      <span
                        class="garbage-day__chip"
                        style={d.color ? { background: d.color } : undefined}
                        aria-hidden="true"
                      />
                      {d.category}
                    </span>
                    {d.remarks.length > 0 && <span class="garbage-day__remark">{d.remarks.join(' ')}</span>}
                  </li>
                ))}
              </ul>
              {state.value.calendar.garbageDays.length === 0 && <p>{t('calendar.noDays')}</p>}
              <p>
                {state.value.settings.eveningReminder ? t('calendar.reminderOn') : t('calendar.reminderOff')}
              </p>
              <button type="button" class="button button--secondary" onClick={() => setChoosing(true)}>
                {t('calendar.change')}
              </button>
            </>
          )}
          {(!state.value.calendar.garbageArea || choosing) && (
            <form
              class="form"
              onSubmit={(event) => {
                event.preventDefault();
                void save(event.currentTarget);
              }}
            >
              <p>{t('calendar.chooseLead')}</p>
              <label class="field">
                <span class="field__label">{t('calendar.areaLabel')}</span>
                <select name="area" required defaultValue={state.value.settings.garbageArea ?? ''}>
                  <option value="">{t('calendar.choose')}</option>
                  {state.value.areas.map((a) => (
                    <option key={a} value={a}>
                      {a}
                    </option>
                  ))}
                </select>
              </label>
              <label class="check">
                <input
                  type="checkbox"
                  name="reminder"
                  defaultChecked={state.value.settings.eveningReminder}
                />
                <span>{t('calendar.reminderLabel')}</span>
              </label>
              <button type="submit" class="button">
                {t('calendar.save')}
              </button>
            </form>
          )}
          {state.value.calendar.garbageArea && (
            <>
              <h3>{t('calendar.feed.heading')}</h3>
              <p>{t('calendar.feed.lead')}</p>
              {feed && (
                <div class="notice calendar-feed" role="status">
                  <p>{t('calendar.feed.ready')}</p>
                  <p class="calendar-feed__links">
                    <a class="button" href={feed.webcalUrl}>
                      {t('calendar.feed.phone')}
                    </a>
                    <a
                      class="button button--secondary"
                      href={`https://calendar.google.com/calendar/render?cid=${encodeURIComponent(feed.webcalUrl)}`}
                      target="_blank"
                      rel="noopener noreferrer"
                    >
                      {t('calendar.feed.google')}
                    </a>
                  </p>
                  <label class="field">
                    <span class="field__label">{t('calendar.feed.address')}</span>
                    <input type="text" readOnly value={feed.url} onFocus={(e) => e.currentTarget.select()} />
                  </label>
                  <p class="field__hint">{t('calendar.feed.secret')}</p>
                </div>
              )}
              {!feed && (
                <button type="button" class="button" onClick={() => void subscribe()}>
                  {state.value.settings.feed ? t('calendar.feed.renew') : t('calendar.feed.create')}
                </button>
              )}
              {(feed || state.value.settings.feed) && (
                <button type="button" class="button button--secondary" onClick={() => void unsubscribe()}>
                  {t('calendar.feed.stop')}
                </button>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
