/**
 * ごみ収集日 in the staff console: import the 5374 files (every problem is listed by file, line and
 * column, and nothing is kept until there is none), see what is in force, preview an area's days,
 * and enter day changes (a holiday's collection cancelled or moved).
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDateTime } from '../shared/dates.ts';
import { useI18n } from '../shared/i18n.ts';
import type { StaffSession } from './auth.ts';
import {
  addDayChange,
  type DayChange,
  fetchDayChanges,
  fetchGarbage,
  type GarbageSchedule,
  type ImportProblem,
  previewArea,
  Refused,
  removeDayChange,
  SessionEnded,
  uploadGarbageFiles,
} from './staff-api.ts';

interface Props {
  session: StaffSession;
  onEnded: () => void;
}

export function GarbagePanel({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const [schedule, setSchedule] = useState<GarbageSchedule | null | undefined>();
  const [changes, setChanges] = useState<DayChange[]>([]);
  const [problems, setProblems] = useState<ImportProblem | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [preview, setPreview] = useState<
    { area: string; days: { date: string; category: string }[] } | undefined
  >();

  const failed = (failure: unknown) => {
    if (failure instanceof SessionEnded) onEnded();
    else setError(failure instanceof Refused ? failure.detail : t('console.garbage.failed'));
  };
  const reload = async () => {
    try {
      const current = await fetchGarbage(session);
      setSchedule(current);
      setChanges(current ? await fetchDayChanges(session) : []);
    } catch (failure) {
      failed(failure);
    }
  };
  useEffect(() => {
    void reload();
  }, [session.accessToken]);

  const upload = async (form: HTMLFormElement) => {
    setProblems(undefined);
    setNotice(undefined);
    setError(undefined);
    const input = form.elements.namedItem('files') as HTMLInputElement;
    try {
      const result = await uploadGarbageFiles(session, [...(input.files ?? [])]);
      if ('problems' in result) {
        setProblems(result);
        return;
      }
      await reload();
      setNotice(t('console.garbage.imported', { areas: String(result.areas) }));
      form.reset();
    } catch (failure) {
      failed(failure);
    }
  };
  const showArea = async (area: string) => {
    if (!area) return setPreview(undefined);
    const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
    const to = new Date(Date.parse(today) + 27 * 86_400_000).toISOString().slice(0, 10);
    try {
      setPreview({ area, days: await previewArea(session, area, today, to) });
    } catch (failure) {
      failed(failure);
    }
  };
  const addChange = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const value = (name: string) => String(data.get(name) ?? '') || undefined;
    try {
      await addDayChange(session, {
        date: String(data.get('date')),
        moveTo: value('moveTo'),
        category: value('category'),
        area: value('area'),
        reason: value('reason'),
      });
      form.reset();
      // The list and the preview show the change before the notice says it is done.
      await reload();
      if (preview) await showArea(preview.area);
      setNotice(t('console.garbage.changeAdded'));
    } catch (failure) {
      failed(failure);
    }
  };
  const removeChange = async (id: string) => {
    try {
      await removeDayChange(session, id);
      await reload();
    } catch (failure) {
      failed(failure);
    }
  };

  return (
    <section class="console__garbage" aria-labelledby="garbage-heading">
      <h2 id="garbage-heading">{t('console.garbage.heading')}</h2>
      <p>{t('console.garbage.lead')}</p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="panel panel--notice" role="status">
          {notice}
        </p>
      )}
      <form
        class="form panel"
        onSubmit={(event) => {
          event.preventDefault();
          void upload(event.currentTarget);
        }}
      >
        <label class="field">
          <span class="field__label">{t('console.garbage.files')}</span>
          <span class="field__hint">{t('console.garbage.filesHint')}</span>
          <input type="file" name="files" multiple required accept=".csv,text/csv" />
        </label>
        <button type="submit" class="button">
          {t('console.garbage.import')}
        </button>
      </form>
      {problems && (
        <div class="panel panel--error" role="alert">
          <p>
            <strong>{t('console.garbage.problems')}</strong>
          </p>
          <p lang="en">{problems.detail}</p>
          <ul class="problems">
            {problems.problems.map((p) => (
              <li key={`${p.name}:${p.reason}`}>
                <strong>{p.name}</strong>: {p.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {schedule === null && <p>{t('console.garbage.none')}</p>}
      {schedule && (
        <div class="panel">
          <h3>{t('console.garbage.inForce')}</h3>
          <p>
            {t('console.garbage.summary', {
              date: formatDateTime(new Date(schedule.importedAt), lang),
              areas: String(schedule.areas.length),
              categories: schedule.categories.map((c) => c.name).join('・'),
            })}
          </p>
          <ul>
            {schedule.files.map((f) => (
              <li key={f.name}>
                {f.name}（{f.encoding === 'shift_jis' ? 'Shift_JIS' : 'UTF-8'}）
              </li>
            ))}
          </ul>
          <label class="field">
            <span class="field__label">{t('console.garbage.previewArea')}</span>
            <select name="preview" onChange={(e) => void showArea(e.currentTarget.value)}>
              <option value="">{t('console.garbage.chooseArea')}</option>
              {schedule.areas.map((a) => (
                <option key={a.name} value={a.name}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
          {preview && (
            <ul class="garbage-days" aria-label={t('console.garbage.previewOf', { area: preview.area })}>
              {preview.days.map((d) => (
                <li key={`${d.date}:${d.category}`} class="garbage-day">
                  <span class="garbage-day__date">{d.date}</span>
                  <span class="garbage-day__category">{d.category}</span>
                </li>
              ))}
            </ul>
          )}
          <h3>{t('console.garbage.changes')}</h3>
          {changes.length === 0 && <p>{t('console.garbage.noChanges')}</p>}
          <ul class="day-changes">
            {changes.map((c) => (
              <li key={c.id}>
                {c.moveTo
                  ? t('console.garbage.moved', { date: c.date, to: c.moveTo })
                  : t('console.garbage.cancelled', { date: c.date })}
                {`（${c.category ?? t('console.garbage.allCategories')}・${c.area ?? t('console.garbage.allAreas')}）`}
                {c.reason && ` ${c.reason}`}{' '}
                <button
                  type="button"
                  class="button button--secondary"
                  onClick={() => void removeChange(c.id)}
                >
                  {t('console.garbage.remove')}
                </button>
              </li>
            ))}
          </ul>
          <form
            class="form"
            onSubmit={(event) => {
              event.preventDefault();
              void addChange(event.currentTarget);
            }}
          >
            <label class="field">
              <span class="field__label">{t('console.garbage.date')}</span>
              <input type="date" name="date" required />
            </label>
            <label class="field">
              <span class="field__label">{t('console.garbage.moveTo')}</span>
              <span class="field__hint">{t('console.garbage.moveToHint')}</span>
              <input type="date" name="moveTo" />
            </label>
            <label class="field">
              <span class="field__label">{t('console.garbage.category')}</span>
              <select name="category">
                <option value="">{t('console.garbage.allCategories')}</option>
                {schedule.categories.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
            <label class="field">
              <span class="field__label">{t('console.garbage.area')}</span>
              <select name="area">
                <option value="">{t('console.garbage.allAreas')}</option>
                {schedule.areas.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.name}
                  </option>
                ))}
              </select>
            </label>
            <label class="field">
              <span class="field__label">{t('console.garbage.reason')}</span>
              <input type="text" name="reason" maxLength={200} />
            </label>
            <button type="submit" class="button">
              {t('console.garbage.addChange')}
            </button>
          </form>
        </div>
      )}
    </section>
  );
}
