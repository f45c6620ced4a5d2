/**
 * A 5374 import as staff upload it: area_days.csv (required), center.csv, description.csv and
 * remarks.csv (each optional), in UTF-8 or Shift_JIS. Every file is read and the files are checked
 * against each other (a centre, a category, a remark named in area_days.csv must exist in its file
 * when that file is given); every problem of every file is reported at once, and nothing is kept
 * unless there is none.
 */
import { type InvalidParam, ValidationFailed } from '../../platform/index.ts';
import { type CsvEncoding, decodeCsv } from './encoding.ts';
import { type AreaSchedule, type CentrePause, readAreaDays, readCentres, rowsOf } from './garbage-5374.ts';

/** A garbage category as description.csv describes it (label, sublabel, description, styles, bgcolor). */
export interface GarbageCategory {
  name: string;
  sublabel: string;
  description: string;
  /** A CSS colour for the category, when the file gives one. */
  color?: string | undefined;
}

export interface GarbageSchedule {
  areas: AreaSchedule[];
  pauses: CentrePause[];
  categories: GarbageCategory[];
  /** Remarks (注意事項) by id. */
  remarks: Record<string, string>;
}

export const GARBAGE_FILES = ['area_days.csv', 'center.csv', 'description.csv', 'remarks.csv'] as const;
export type GarbageFile = (typeof GARBAGE_FILES)[number];

function readDescriptions(csv: string, problems: InvalidParam[]): GarbageCategory[] {
  const [header, ...rows] = rowsOf(csv, 'description.csv');
  if (header?.[0] !== 'label') {
    problems.push({
      name: 'description.csv, line 1',
      reason: 'expected the header label,sublabel,description,styles,bgcolor',
    });
    return [];
  }
  return rows.flatMap((row, index) => {
    const [name = '', sublabel = '', description = '', , color] = row;
    if (!name) {
      problems.push({
        name: `description.csv, line ${index + 2}, label`,
        reason: 'the category has no name',
      });
      return [];
    }
    if (color && !/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/.test(color)) {
      problems.push({
        name: `description.csv, line ${index + 2}, bgcolor`,
        reason: `"${color}" is not a colour (#rrggbb)`,
      });
    }
    return [{ name, sublabel, description, color: color || undefined }];
  });
}

function readRemarks(csv: string, problems: InvalidParam[]): Record<string, string> {
  const [, ...rows] = rowsOf(csv, 'remarks.csv');
  const remarks: Record<string, string> = {};
  rows.forEach((row, index) => {
    const [id = '', text = ''] = row;
    if (!/^\d+$/.test(id))
      problems.push({ name: `remarks.csv, line ${index + 2}, ID`, reason: `"${id}" is not a number` });
    else if (!text)
      problems.push({ name: `remarks.csv, line ${index + 2}, 注意事項`, reason: 'the remark is empty' });
    else remarks[String(Number(id))] = text;
  });
  return remarks;
}

/** Runs a reader that throws ValidationFailed, collecting its problems under the file's name. */
function collect<T>(file: string, read: () => T, problems: InvalidParam[], fallback: T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ValidationFailed)) throw error;
    const params = (error.extensions.invalidParams as InvalidParam[]) ?? [];
    if (params.length === 0) problems.push({ name: file, reason: error.message });
    for (const p of params)
      problems.push({ name: p.name.startsWith(file) ? p.name : `${file}, ${p.name}`, reason: p.reason });
    return fallback;
  }
}

function crossCheck(schedule: GarbageSchedule, given: Set<GarbageFile>, problems: InvalidParam[]): void {
  const centres = new Set(schedule.pauses.map((p) => p.centre));
  const categories = new Set(schedule.categories.map((c) => c.name));
  schedule.areas.forEach((area, index) => {
    const line = index + 2;
    if (given.has('center.csv') && area.center && !centres.has(area.center)) {
      problems.push({
        name: `area_days.csv, line ${line}, センター`,
        reason: `${area.center} is not in center.csv`,
      });
    }
    for (const c of area.categories) {
      for (const remark of c.remarks) {
        if (!schedule.remarks[String(remark)]) {
          problems.push({
            name: `area_days.csv, line ${line}, ${c.category}`,
            reason: `remark *${remark} is not in remarks.csv`,
          });
        }
      }
    }
  });
  if (given.has('description.csv')) {
    for (const category of new Set(schedule.areas.flatMap((a) => a.categories.map((c) => c.category)))) {
      if (!categories.has(category)) {
        problems.push({
          name: 'area_days.csv, line 1',
          reason: `the category ${category} has no line in description.csv`,
        });
      }
    }
  }
}

/**
 * Reads an upload of 5374 files.
 * @throws ValidationFailed listing every problem of every file; nothing is half-read
 */
export function readGarbageImport(files: Partial<Record<GarbageFile, Uint8Array>>): {
  schedule: GarbageSchedule;
  encodings: Partial<Record<GarbageFile, CsvEncoding>>;
} {
  const problems: InvalidParam[] = [];
  const encodings: Partial<Record<GarbageFile, CsvEncoding>> = {};
  const text = (file: GarbageFile): string | undefined => {
    const bytes = files[file];
    if (!bytes) return undefined;
    return collect(
      file,
      () => {
        const decoded = decodeCsv(bytes, file);
        encodings[file] = decoded.encoding;
        return decoded.text;
      },
      problems,
      undefined,
    );
  };
  const areaDays = text('area_days.csv');
  if (!files['area_days.csv'])
    problems.push({ name: 'area_days.csv', reason: 'the import needs area_days.csv' });
  const center = text('center.csv');
  const description = text('description.csv');
  const remarks = text('remarks.csv');
  const schedule: GarbageSchedule = {
    areas: areaDays === undefined ? [] : collect('area_days.csv', () => readAreaDays(areaDays), problems, []),
    pauses: center === undefined ? [] : collect('center.csv', () => readCentres(center), problems, []),
    categories: description === undefined ? [] : readDescriptions(description, problems),
    remarks: remarks === undefined ? {} : readRemarks(remarks, problems),
  };
  if (schedule.categories.length === 0) {
    const names = new Set(schedule.areas.flatMap((a) => a.categories.map((c) => c.category)));
    schedule.categories = [...names].map((name) => ({ name, sublabel: '', description: '' }));
  }
  if (problems.length === 0) crossCheck(schedule, new Set(Object.keys(files) as GarbageFile[]), problems);
  if (problems.length > 0) {
    throw new ValidationFailed(
      `the 5374 files have ${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was imported`,
      problems,
    );
  }
  return { schedule, encodings };
}
