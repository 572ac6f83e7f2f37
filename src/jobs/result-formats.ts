/**
 * A downloaded video result file (API reference, section 5) in forms ready for training:
 * the frame map `{frame_id: src}`, one row per tracker per frame (for a CSV or database node),
 * and YOLO label text per frame. Coordinates in result files are normalised to 0..1 (x / image
 * width, y / image height), so no image size is needed.
 */
import { z } from 'zod';
import { invalidInput } from '../api/errors';
import { extractAnnotations, type Tracker } from './annotations';
import { isBlank } from './fill-blanks';
import { isPlainObject, preview } from './frames';

/** What a downloaded result becomes: the file's trackers, rows, or YOLO labels. */
export const RESULT_FORMATS = ['trackers', 'rows', 'yolo'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export interface ResultContent {
  /** The frames in the order of the file's video_data, then frames only trackers name. */
  frames: Array<{ frame_id: string; src: string | null }>;
  trackers: Tracker[];
}

export interface Point {
  x: number;
  y: number;
}

export interface AnnotationRow {
  job_id: string;
  reference_id: string;
  frame_id: string;
  src: string | null;
  tracker_id: string | null;
  label: string;
  type: string;
  /** The shape's points in order: `coordinates` as given, or `points` {p1..pn} in number order. */
  coordinates: Point[] | null;
  /** Attribute name → value (the `value` of each `{value, …}`). */
  attributes: Record<string, unknown>;
}

export interface YoloEntry {
  frame_id: string;
  src: string | null;
  /** The label file's name, unique within the job (see `labelFileNames`). */
  file: string;
  /** One `class cx cy w h` line per box, each ending in a newline; empty for a frame without boxes. */
  text: string;
}

export interface SkippedShape {
  frame_id: string;
  tracker_id: string | null;
  label: string;
  type: string;
  reason: string;
}

type Json = Record<string, unknown>;

const collator = new Intl.Collator('en', { numeric: true });

/** The frames and trackers of a result file; undefined when it holds no trackers in a known place. */
export function readResult(file: unknown): ResultContent | undefined {
  const trackers = extractAnnotations(file);
  if (!trackers) return undefined;
  const frames: ResultContent['frames'] = [];
  const known = new Set<string>();
  const data = (file as { data: Json }).data;
  const listed = isPlainObject(data.video_data) && Array.isArray(data.video_data.frames) ? data.video_data.frames : [];
  for (const frame of listed) {
    if (!isPlainObject(frame) || typeof frame.frame_id !== 'string' || known.has(frame.frame_id)) continue;
    known.add(frame.frame_id);
    frames.push({ frame_id: frame.frame_id, src: typeof frame.src === 'string' ? frame.src : null });
  }
  for (const tracker of trackers) {
    for (const frameId of Object.keys(tracker.frames ?? {})) {
      if (known.has(frameId)) continue;
      known.add(frameId);
      frames.push({ frame_id: frameId, src: null });
    }
  }
  return { frames, trackers };
}

/**
 * Sets `key` as an own property, also `__proto__` (which `=` would take for the prototype): a
 * plain object whose methods a Function node can call, with any frame id or attribute name a key.
 */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `{frame_id: src}` for the frames the file lists. */
export function frameMap(content: ResultContent): Record<string, string | null> {
  const map: Record<string, string | null> = {};
  for (const f of content.frames) setOwn(map, f.frame_id, f.src);
  return map;
}

interface Shape {
  frameId: string;
  src: string | null;
  tracker: Tracker;
  annotation: Json;
  label: string;
  type: string;
}

/** Every (frame, tracker) annotation, frame by frame in file order, trackers in file order. */
function shapes(content: ResultContent): Shape[] {
  const out: Shape[] = [];
  for (const { frame_id: frameId, src } of content.frames) {
    for (const tracker of content.trackers) {
      const frames = tracker.frames;
      if (!frames || !Object.prototype.hasOwnProperty.call(frames, frameId)) continue;
      const annotation = isPlainObject(frames[frameId]) ? (frames[frameId] as Json) : {};
      const label = typeof annotation.label === 'string' ? annotation.label : (tracker.label ?? '');
      const type = typeof annotation.type === 'string' ? annotation.type : (tracker.type ?? '');
      out.push({ frameId, src, tracker, annotation, label, type });
    }
  }
  return out;
}

function isPoint(p: unknown): p is Point {
  return isPlainObject(p) && typeof p.x === 'number' && Number.isFinite(p.x) && typeof p.y === 'number' && Number.isFinite(p.y);
}

/** The shape's points: `coordinates` (rectangles) or `points` {p1..pn} (polygons, lines), in order. */
function pointsOf(annotation: Json): Point[] | null {
  const raw = Array.isArray(annotation.coordinates)
    ? annotation.coordinates
    : isPlainObject(annotation.points)
      ? Object.keys(annotation.points)
          .sort(collator.compare)
          .map((k) => (annotation.points as Json)[k])
      : undefined;
  if (!raw || !raw.every(isPoint)) return null;
  return raw.map((p) => ({ x: p.x, y: p.y }));
}

function attributeValues(annotation: Json): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isPlainObject(annotation.attributes)) return out;
  for (const [name, attr] of Object.entries(annotation.attributes)) {
    setOwn(out, name, isPlainObject(attr) && 'value' in attr ? attr.value : attr);
  }
  return out;
}

/** One row per tracker per frame, for a CSV or database node. */
export function annotationRows(content: ResultContent, job: { job_id: string; reference_id: string }): AnnotationRow[] {
  return shapes(content).map((s) => ({
    job_id: job.job_id,
    reference_id: job.reference_id,
    frame_id: s.frameId,
    src: s.src,
    tracker_id: typeof s.tracker._id === 'string' ? s.tracker._id : null,
    label: s.label,
    type: s.type,
    coordinates: pointsOf(s.annotation),
    attributes: attributeValues(s.annotation),
  }));
}

const yoloNumber = (n: number): string => n.toFixed(6);

/** File systems allow 255 bytes per name: room for the suffix and `.txt`. */
const MAX_FILE_BASE = 200;
/** Names Windows keeps for devices, whatever follows the first dot (`nul.txt` writes nowhere). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

/**
 * YOLO labels: one entry per frame (in file order, also frames without boxes) whose text has a
 * `class cx cy w h` line per rectangle, the class being the label's index in `labels`. Anything
 * that cannot be a line (another shape, a label not in the list, points outside 0..1) is listed
 * in `skipped` with the reason, never dropped silently.
 */
export function yoloEntries(content: ResultContent, labels: readonly string[]): { entries: YoloEntry[]; skipped: SkippedShape[] } {
  const problem = labelListProblem(labels);
  if (problem) throw invalidInput(problem);
  const lines = new Map<string, string[]>();
  const skipped: SkippedShape[] = [];
  for (const s of shapes(content)) {
    const line = yoloLine(s, labels);
    if (typeof line === 'string') {
      let frameLines = lines.get(s.frameId);
      if (!frameLines) lines.set(s.frameId, (frameLines = []));
      frameLines.push(line);
    } else {
      const trackerId = typeof s.tracker._id === 'string' ? s.tracker._id : null;
      skipped.push({ frame_id: s.frameId, tracker_id: trackerId, label: s.label, type: s.type, reason: line.skip });
    }
  }
  const files = labelFileNames(content.frames.map((f) => f.frame_id));
  const entries = content.frames.map(({ frame_id: frameId, src }, i) => ({
    frame_id: frameId,
    src,
    file: files[i],
    text: (lines.get(frameId) ?? []).map((l) => `${l}\n`).join(''),
  }));
  return { entries, skipped };
}

/**
 * A label file name per frame: the frame id without its extension (after the last `/` or `\`),
 * each character other than an ASCII letter, digit, `_`, `-` or `.` replaced by `_`, cut to 200
 * characters (`frame` if nothing is left), then `.txt`. The first frame with a name keeps it; a
 * later frame whose name is taken (`a.png` after `a.jpg`, or letter case alone, for file systems that
 * ignore it), and `classes` get `-2`, `-3`, …: one file per frame, none written over another. Windows
 * device names (`con`, `nul`, `com1`, …) get `_` after the device part (`con.tar.gz` → `con_.tar.txt`).
 */
export function labelFileNames(frameIds: readonly string[]): string[] {
  const taken = new Set(['classes']);
  return frameIds.map((id) => {
    const cleaned =
      id
        .replace(/\.[^./\\]*$/, '')
        .replace(/[^A-Za-z0-9_.-]/g, '_')
        .slice(0, MAX_FILE_BASE) || 'frame';
    // A device name stays one whatever follows its first dot: the mark goes right after it.
    const base = cleaned.replace(WINDOWS_DEVICE, '$1_$2');
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    taken.add(name.toLowerCase());
    return `${name}.txt`;
  });
}

/** The shape's `class cx cy w h` line, or why it has none. */
function yoloLine(s: Shape, labels: readonly string[]): string | { skip: string } {
  if (s.type !== 'rectangle') return { skip: `a ${s.type ? preview(s.type) : 'shape without a type'} has no YOLO box; only rectangles do` };
  const classIndex = labels.indexOf(s.label);
  if (classIndex === -1) return { skip: `label ${preview(s.label)} is not in the label list` };
  const points = pointsOf(s.annotation);
  if (!points || points.length < 2) return { skip: 'the rectangle has no corner points' };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [left, right, top, bottom] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (left < 0 || top < 0 || right > 1 || bottom > 1) return { skip: 'the corner points are not normalised to 0..1' };
  const box = [(left + right) / 2, (top + bottom) / 2, right - left, bottom - top].map(yoloNumber);
  return `${classIndex} ${box.join(' ')}`;
}

/** Why a label list cannot give class numbers, or undefined when it can. */
function labelListProblem(labels: readonly string[]): string | undefined {
  if (labels.length === 0) return "the YOLO format needs the label list (each label's place in it is its class number)";
  const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
  if (duplicate !== undefined) return `the label list names ${preview(duplicate)} twice: each label needs one class number`;
  return undefined;
}

const LABELS_WANTED = 'set Labels in the node (separated by commas or new lines) or send msg.labels as an array of strings';

/**
 * The YOLO label list, from the node's text (labels separated by commas or new lines) or from
 * `msg.labels` (an array of strings, for labels that hold a comma); each label trimmed.
 */
export const labelListSchema = z.unknown().transform((v, ctx): string[] => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  let labels: string[];
  if (isBlank(v)) labels = [];
  else if (typeof v === 'string')
    labels = v
      .split(/[,\r\n]/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  else if (Array.isArray(v)) {
    const bad = v.findIndex((l) => typeof l !== 'string' || l.trim() === '');
    if (bad !== -1) return fail(`msg.labels[${bad}] must be a label (a string that is not blank); got ${preview(v[bad])}`);
    labels = (v as string[]).map((l) => l.trim());
  } else return fail(`the label list must be text or an array of strings: ${LABELS_WANTED}; got ${preview(v)}`);
  const problem = labelListProblem(labels);
  return problem ? fail(labels.length === 0 ? `${problem}: ${LABELS_WANTED}` : problem) : labels;
});

/**
 * What a result file adds to the job-result node's payload: always `frames` ({frame_id: src}),
 * then `annotations` (the trackers as in the file), `rows`, or `yolo` with `skipped` and the
 * `labels` whose places are the class numbers.
 */
export function resultPayload(
  content: ResultContent,
  format: ResultFormat,
  job: { job_id: string; reference_id: string },
  labels: readonly string[] = [],
): Record<string, unknown> {
  const frames = frameMap(content);
  if (format === 'rows') return { frames, rows: annotationRows(content, job) };
  if (format === 'yolo') {
    const { entries, skipped } = yoloEntries(content, labels);
    return { frames, yolo: entries, skipped, labels: [...labels] };
  }
  return { frames, annotations: content.trackers };
}
