// Builds the fake annotation result a completed job "has": one or two rectangle trackers labelled
// Car, derived from a hash of the job id so the same job always yields the same file. A job sent
// with pre-labels (data.maker_response) gets those trackers instead, as if annotators had
// accepted them, so a flow can test the round trip.
import { createHash } from 'node:crypto';
import { preLabelTrackers } from '../jobs/pre-labels';
import type { VideoFrame } from './types';

export interface Point {
  x: number;
  y: number;
}

export interface FrameAnnotation {
  _id: string;
  label: string;
  attributes: Record<string, { value: unknown }>;
  coordinates: Point[];
}

export interface Tracker {
  _id: string;
  type: 'rectangle';
  label: string;
  frames: Record<string, FrameAnnotation>;
}

/** A pre-labelled tracker as sent, with the ids a result carries filled in. */
export type PreLabelledTracker = Record<string, unknown> & { _id: string; frames: Record<string, Record<string, unknown>> };

export interface VideoResultDocument {
  data: {
    annotation_data: { annotations: Array<Tracker | PreLabelledTracker> };
    video_data: { frames: VideoFrame[] };
  };
}

interface TrackerPlan {
  id: string;
  /** Index of the first frame the object appears in; it stays until the last frame. */
  firstFrame: number;
  width: number;
  height: number;
  phase: number;
  speed: number;
}

const LABEL = 'Car';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function uuidFrom(bytes: Buffer): string {
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function planTrackers(jobId: string, frameCount: number): TrackerPlan[] {
  const seed = digest(jobId);
  const trackerCount = 1 + (seed[0] & 1);
  const plans: TrackerPlan[] = [];
  for (let k = 0; k < trackerCount; k++) {
    const b = digest(`${jobId}:tracker:${k}`);
    plans.push({
      id: uuidFrom(b),
      // The first tracker spans the whole clip; a second one enters somewhere in the first half.
      firstFrame: k === 0 ? 0 : Math.floor((frameCount * b[16]) / 512),
      width: 0.1 + (b[17] / 255) * 0.2,
      height: 0.1 + (b[18] / 255) * 0.2,
      phase: (b[19] / 255) * Math.PI * 2,
      speed: 0.02 + (b[20] / 255) * 0.08,
    });
  }
  return plans;
}

/** The pre-labelled trackers of a maker_response; undefined when it has none (an empty list included). */
function preLabelsOf(makerResponse: unknown): Array<Record<string, unknown>> | undefined {
  const trackers = preLabelTrackers(makerResponse);
  return trackers && trackers.length > 0 ? (trackers as Array<Record<string, unknown>>) : undefined;
}

/** Annotation count of the result, without building it (used for listings and project stats). */
export function countAnnotations(jobId: string, frames: readonly VideoFrame[], makerResponse?: unknown): number {
  const preLabels = preLabelsOf(makerResponse);
  // Validation has checked that pre-labels name only the job's frames.
  if (preLabels) return preLabels.reduce((n, t) => n + Object.keys(t.frames as object).length, 0);
  let total = 0;
  for (const plan of planTrackers(jobId, frames.length)) total += frames.length - plan.firstFrame;
  return total;
}

/**
 * The pre-labels as result trackers: each keeps what it was sent with (a copy), its annotations
 * in the job's frame order, and gets the `_id`s a result has where it had none.
 */
function preLabelledTrackers(
  jobId: string,
  frames: readonly VideoFrame[],
  preLabels: Array<Record<string, unknown>>,
): PreLabelledTracker[] {
  return preLabels.map((tracker, k) => {
    const copy = structuredClone(tracker);
    const id = typeof copy._id === 'string' ? copy._id : uuidFrom(digest(`${jobId}:pre-label:${k}`));
    const given = copy.frames as Record<string, Record<string, unknown>>;
    const byFrame = Object.create(null) as Record<string, Record<string, unknown>>;
    frames.forEach((frame, i) => {
      if (!Object.prototype.hasOwnProperty.call(given, frame.frame_id)) return;
      const annotation = given[frame.frame_id];
      byFrame[frame.frame_id] = { _id: `${id.slice(0, 8)}-${i}`, ...annotation };
    });
    return { ...copy, _id: id, frames: byFrame };
  });
}

const round = (n: number): number => Math.round(n * 10000) / 10000;

function rectangleAt(plan: TrackerPlan, frameIndex: number): Point[] {
  // A bounded oscillation keeps the box inside the image however long the clip is.
  const t = plan.phase + frameIndex * plan.speed;
  const left = round((1 - plan.width) * (0.5 + 0.5 * Math.sin(t)));
  const top = round((1 - plan.height) * (0.5 + 0.5 * Math.cos(t * 0.7)));
  const right = round(left + plan.width);
  const bottom = round(top + plan.height);
  return [
    { x: left, y: top },
    { x: right, y: top },
    { x: right, y: bottom },
    { x: left, y: bottom },
  ];
}

export function buildVideoResult(jobId: string, frames: readonly VideoFrame[], makerResponse?: unknown): VideoResultDocument {
  const preLabels = preLabelsOf(makerResponse);
  const annotations = preLabels ? preLabelledTrackers(jobId, frames, preLabels) : syntheticTrackers(jobId, frames);
  return {
    data: {
      annotation_data: { annotations },
      video_data: { frames: frames.map((f) => ({ frame_id: f.frame_id, src: f.src })) },
    },
  };
}

function syntheticTrackers(jobId: string, frames: readonly VideoFrame[]): Tracker[] {
  return planTrackers(jobId, frames.length).map((plan) => {
    // Null prototype: a frame_id such as "__proto__" must become an ordinary key.
    const byFrame = Object.create(null) as Record<string, FrameAnnotation>;
    for (let i = plan.firstFrame; i < frames.length; i++) {
      byFrame[frames[i].frame_id] = {
        _id: `${plan.id.slice(0, 8)}-${i}`,
        label: LABEL,
        attributes: { occluded: { value: false } },
        coordinates: rectangleAt(plan, i),
      };
    }
    return { _id: plan.id, type: 'rectangle', label: LABEL, frames: byFrame };
  });
}
