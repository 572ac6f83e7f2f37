/**
 * Extra job data a sequence may carry into `data`: pre-labels (`maker_response`), per-frame
 * reference images (`reference_data`) and free `metadata` (see the API reference, 2.1). Frame ids
 * they refer to must be frames of the job; a split job carries only its own frames' share.
 */
import { invalidInput } from '../api/errors';
import { isPlainObject, preview, type Frame } from './frames';

/** Where pre-labels sit under maker_response: `video_2d` (TELUS docs) or `video2d` (GT Studio docs). */
export const PRE_LABEL_KEYS = ['video_2d', 'video2d'] as const;
/** Where reference images sit under reference_data: `vector` (video annotation) or `raster` (segmentation). */
export const REFERENCE_DATA_KEYS = ['vector', 'raster'] as const;

export const EXTRA_KEYS = ['maker_response', 'reference_data', 'metadata'] as const;
export type ExtraKey = (typeof EXTRA_KEYS)[number];
export type JobExtras = Partial<Record<ExtraKey, Record<string, unknown>>>;

type Json = Record<string, unknown>;

function blank(v: unknown): boolean {
  return v === undefined || v === null;
}

/** The extras `source` gives (not missing or null), in EXTRA_KEYS order. */
export function givenExtraKeys(source: Json): ExtraKey[] {
  return EXTRA_KEYS.filter((key) => !blank(source[key]));
}

/** The pre-label key a maker_response uses, when it holds `<key>.data.annotations` as an array. */
function preLabelKey(makerResponse: unknown): (typeof PRE_LABEL_KEYS)[number] | undefined {
  if (!isPlainObject(makerResponse)) return undefined;
  return PRE_LABEL_KEYS.find((key) => {
    const section = makerResponse[key];
    return isPlainObject(section) && isPlainObject(section.data) && Array.isArray(section.data.annotations);
  });
}

/** The pre-labelled trackers (result-format trackers), or undefined when there are none in a known place. */
export function preLabelTrackers(makerResponse: unknown): unknown[] | undefined {
  const key = preLabelKey(makerResponse);
  if (!key) return undefined;
  return ((makerResponse as Json)[key] as { data: { annotations: unknown[] } }).data.annotations;
}

/** The reference image lists of a reference_data object, with the key they sit under. */
function referenceImageLists(referenceData: Json): Array<{ key: string; images: unknown[] }> {
  const lists: Array<{ key: string; images: unknown[] }> = [];
  for (const key of REFERENCE_DATA_KEYS) {
    const section = referenceData[key];
    if (isPlainObject(section) && Array.isArray(section.images)) lists.push({ key, images: section.images });
  }
  return lists;
}

function checkMakerResponse(value: unknown, ids: ReadonlySet<string>, where: string): Json {
  const key = preLabelKey(value);
  if (!key) {
    throw invalidInput(
      `${where} must hold the pre-labelled trackers as video_2d.data.annotations (or video2d.data.annotations), got ${preview(value)}`,
    );
  }
  if (PRE_LABEL_KEYS.every((k) => !blank((value as Json)[k]))) {
    throw invalidInput(`${where} holds both video_2d and video2d; keep one (the one your project's documents name)`);
  }
  const trackers = preLabelTrackers(value)!;
  trackers.forEach((tracker: unknown, t) => {
    const at = `${where}.${key}.data.annotations[${t}]`;
    if (!isPlainObject(tracker) || !isPlainObject(tracker.frames)) {
      throw invalidInput(`${at} must be a tracker with frames {frame_id: annotation}, got ${preview(tracker)}`);
    }
    const name = typeof tracker._id === 'string' ? ` (tracker ${preview(tracker._id)})` : '';
    for (const frameId of Object.keys(tracker.frames)) {
      if (!ids.has(frameId)) throw invalidInput(`${at}${name}: frame ${preview(frameId)} is not a frame of this job`);
    }
  });
  return value as Json;
}

function checkReferenceData(value: unknown, ids: ReadonlySet<string>, where: string): Json {
  if (!isPlainObject(value)) throw invalidInput(`${where} must be an object, got ${preview(value)}`);
  for (const { key, images } of referenceImageLists(value)) {
    images.forEach((item: unknown, i) => {
      const at = `${where}.${key}.images[${i}]`;
      const frameId = isPlainObject(item) ? item.frame_id : undefined;
      if (typeof frameId !== 'string') throw invalidInput(`${at} must be {frame_id, data}, got ${preview(item)}`);
      if (!ids.has(frameId)) throw invalidInput(`${at}: frame ${preview(frameId)} is not a frame of this job`);
    });
  }
  return value;
}

/**
 * The extras of one sequence (a bulk entry, or the message for a single sequence), checked
 * against its frames. `label` names the source in messages ("msg", "msg.payload[2]").
 * metadata passes unchanged; it must be an object, as Playment's SDK requires.
 */
export function parseJobExtras(source: Json, frames: readonly Frame[], label: string): JobExtras {
  const extras: JobExtras = {};
  if (givenExtraKeys(source).length === 0) return extras;
  const ids = new Set(frames.map((f) => f.frame_id));
  if (!blank(source.maker_response)) extras.maker_response = checkMakerResponse(source.maker_response, ids, `${label}.maker_response`);
  if (!blank(source.reference_data)) extras.reference_data = checkReferenceData(source.reference_data, ids, `${label}.reference_data`);
  if (!blank(source.metadata)) {
    if (!isPlainObject(source.metadata)) throw invalidInput(`${label}.metadata must be an object, got ${preview(source.metadata)}`);
    extras.metadata = source.metadata;
  }
  return extras;
}

/**
 * The extras of a part of a split sequence: each tracker keeps only the annotations of the part's
 * frames (a tracker left with none is dropped), reference images likewise; metadata is whole.
 * Everything else in the objects is kept; the input is not changed.
 */
export function extrasForFrames(extras: JobExtras, frames: readonly Frame[]): JobExtras {
  const ids = new Set(frames.map((f) => f.frame_id));
  const part: JobExtras = { ...extras };
  const makerResponse = extras.maker_response;
  const key = preLabelKey(makerResponse);
  if (makerResponse && key) {
    const section = makerResponse[key] as Json & { data: Json & { annotations: Json[] } };
    const annotations = section.data.annotations
      .map((tracker) => ({ ...tracker, frames: only(tracker.frames as Json, ids) }))
      .filter((tracker) => Object.keys(tracker.frames).length > 0);
    part.maker_response = { ...makerResponse, [key]: { ...section, data: { ...section.data, annotations } } };
  }
  const referenceData = extras.reference_data;
  if (referenceData) {
    const sliced: Json = { ...referenceData };
    for (const { key: k, images } of referenceImageLists(referenceData)) {
      sliced[k] = { ...(referenceData[k] as Json), images: images.filter((item) => ids.has((item as Json).frame_id as string)) };
    }
    part.reference_data = sliced;
  }
  return part;
}

/** The entries of `byFrame` whose frame id is in `ids`; null prototype, so "__proto__" stays a key. */
function only(byFrame: Json, ids: ReadonlySet<string>): Json {
  const kept = Object.create(null) as Json;
  for (const [frameId, annotation] of Object.entries(byFrame)) if (ids.has(frameId)) kept[frameId] = annotation;
  return kept;
}
