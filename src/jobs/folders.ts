/**
 * Frames from storage, one job per folder: a flat list of frame URLs (from an S3 or GCS listing,
 * or local files served over HTTPS) grouped by parent folder into a bulk payload
 * `[{reference_id: <folder>, frames: [...]}]`, image files only, in natural order of file names.
 */
import { invalidInput } from '../api/errors';
import { isPlainObject, preview } from './frames';

/** File name extensions taken as frames (any case); every other entry is listed as skipped. */
export const IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'bmp', 'webp', 'tif', 'tiff'];

/** A frame as the submit node takes it: a URL string or {frame_id?, src}. */
export type FrameEntry = string | { src: string; frame_id?: unknown; [key: string]: unknown };

export interface FolderSequence {
  /** The folder's URL without the trailing slash, e.g. "s3://bucket/drive-01/cam-front". */
  reference_id: string;
  frames: FrameEntry[];
}

export interface FolderGrouping {
  /** One per folder holding at least one image, in natural order of folder URLs. */
  sequences: FolderSequence[];
  /** Sources that are not image files (folder markers, JSON, videos…), in input order. */
  skipped: string[];
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/** The part of a URL or key before its query or fragment. */
function pathOf(src: string): string {
  const end = src.search(/[?#]/);
  return end === -1 ? src : src.slice(0, end);
}

function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

function sourceOf(item: unknown, label: string, i: number): string {
  const src = isPlainObject(item) ? item.src : item;
  if (typeof src !== 'string' || src.trim() === '') {
    throw invalidInput(`${label} frame ${i} must be a URL string or {frame_id, src} with a URL, got ${preview(item)}`);
  }
  return src;
}

/**
 * Groups frames by parent folder. Entries keep their form (string or object); within a folder
 * they are sorted naturally by file name (frame_9 before frame_10), and folders by their URL.
 */
export function groupFramesByFolder(input: unknown, label = 'msg.payload'): FolderGrouping {
  if (!Array.isArray(input)) {
    throw invalidInput(`${label} must be an array of frame URLs to group by folder, got ${preview(input)}`);
  }
  const folders = new Map<string, Array<{ name: string; entry: FrameEntry }>>();
  const skipped: string[] = [];
  input.forEach((item: unknown, i) => {
    const src = sourceOf(item, label, i);
    const path = pathOf(src);
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    if (!isImageName(name)) {
      skipped.push(src);
      return;
    }
    const folder = slash === -1 ? '' : path.slice(0, slash);
    // "scheme://host/file.jpg" has the host as its folder; "file.jpg" and "https://file.jpg" have none.
    if (folder === '' || /^[a-z][a-z0-9+.-]*:\/?$/i.test(folder)) {
      throw invalidInput(`${label} frame ${i}: ${preview(src)} is not in a folder; group only URLs such as s3://bucket/folder/frame.jpg`);
    }
    let files = folders.get(folder);
    if (!files) folders.set(folder, (files = []));
    files.push({ name, entry: item as FrameEntry });
  });
  const sequences = [...folders.keys()].sort(collator.compare).map((folder) => ({
    reference_id: folder,
    frames: folders
      .get(folder)!
      .sort((a, b) => collator.compare(a.name, b.name))
      .map((f) => f.entry),
  }));
  return { sequences, skipped };
}

/** Each path segment percent-encoded, so a key with spaces or '#' still makes one valid URL. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** A listing given as one answer or as an array of pages. */
function pagesOf(listing: unknown, itemsKey: string, label: string): Array<Record<string, unknown>> {
  const pages = Array.isArray(listing) ? listing : [listing];
  pages.forEach((page: unknown, i) => {
    if (!isPlainObject(page)) {
      const where = Array.isArray(listing) ? `${label}[${i}]` : label;
      throw invalidInput(`${where} must be a listing object with ${itemsKey}, got ${preview(page)}`);
    }
  });
  return pages as Array<Record<string, unknown>>;
}

function itemsOf(page: Record<string, unknown>, itemsKey: string, where: string): unknown[] {
  const items = page[itemsKey];
  // Both services leave the list out when nothing matched.
  if (items === undefined) return [];
  if (!Array.isArray(items)) throw invalidInput(`${where}.${itemsKey} must be an array, got ${preview(items)}`);
  return items;
}

/**
 * The frame URLs (`s3://bucket/key`) of an S3 ListObjectsV2 answer, as the SDKs and
 * `aws s3api list-objects-v2` give it: bucket from `Name`, keys from `Contents[].Key`, taken as
 * they are (not URL-decoded). An array of pages is read in order. A truncated listing is refused:
 * a folder cut between pages would become a job with part of its frames.
 */
export function s3ListingToUrls(listing: unknown, label = 'msg.payload'): string[] {
  const pages = pagesOf(listing, 'Contents', label);
  const urls: string[] = [];
  pages.forEach((page, p) => {
    const where = Array.isArray(listing) ? `${label}[${p}]` : label;
    const bucket = page.Name;
    if (typeof bucket !== 'string' || bucket === '') {
      throw invalidInput(`${where}.Name (the bucket) must be a non-empty string, got ${preview(bucket)}`);
    }
    itemsOf(page, 'Contents', where).forEach((item: unknown, i) => {
      const key = isPlainObject(item) ? item.Key : undefined;
      if (typeof key !== 'string' || key === '') {
        throw invalidInput(`${where}.Contents[${i}].Key must be a non-empty string, got ${preview(item)}`);
      }
      urls.push(`s3://${bucket}/${encodePath(key)}`);
    });
  });
  const last = pages[pages.length - 1];
  if (last && last.IsTruncated === true) {
    throw invalidInput(
      `${label} is one page of a longer S3 listing (IsTruncated is true): pass all pages as an array, or the whole listing (aws s3api list-objects-v2 fetches every page)`,
    );
  }
  return urls;
}

/**
 * The frame URLs (`gs://bucket/name`) of a GCS objects listing (the JSON API's `objects.list`
 * answer, `{items: [{name, bucket}]}`), or an array of pages or of object entries; names taken
 * as they are. A listing with a `nextPageToken` is refused, as a truncated S3 listing is.
 */
export function gcsListingToUrls(listing: unknown, label = 'msg.payload'): string[] {
  // An array of object entries ({name, bucket}) is one page of items.
  const isItemArray = Array.isArray(listing) && listing.every((e) => isPlainObject(e) && !('items' in e));
  const pages = isItemArray ? [{ items: listing }] : pagesOf(listing, 'items', label);
  const urls: string[] = [];
  pages.forEach((page, p) => {
    const where = Array.isArray(listing) && !isItemArray ? `${label}[${p}]` : label;
    // An entry among pages would read as a page with nothing in it: its object silently lost.
    if (!isItemArray && !('items' in page) && 'name' in page) {
      throw invalidInput(
        `${where} is an object entry ({name, bucket}) among listing pages: give listing pages or object entries, not both`,
      );
    }
    itemsOf(page, 'items', where).forEach((item: unknown, i) => {
      const at = isItemArray ? `${label}[${i}]` : `${where}.items[${i}]`;
      const name = isPlainObject(item) ? item.name : undefined;
      const bucket = isPlainObject(item) ? item.bucket : undefined;
      if (typeof name !== 'string' || name === '' || typeof bucket !== 'string' || bucket === '') {
        throw invalidInput(`${at} must have a non-empty name and bucket, got ${preview(item)}`);
      }
      urls.push(`gs://${bucket}/${encodePath(name)}`);
    });
  });
  const last = pages[pages.length - 1];
  if (last && typeof last.nextPageToken === 'string' && last.nextPageToken !== '') {
    throw invalidInput(`${label} is one page of a longer GCS listing (it has a nextPageToken): pass all pages as an array`);
  }
  return urls;
}

/**
 * Local file paths (one per array item, or lines of a text) under `root`, as URLs under
 * `baseUrl`, where a web server serves `root`: "/srv/frames/a/1.jpg" with root "/srv/frames" and
 * base "https://frames.example.com" gives "https://frames.example.com/a/1.jpg". Backslashes are
 * read as folder separators; blank lines are ignored.
 */
export function localPathsToUrls(paths: unknown, root: string, baseUrl: string, label = 'msg.payload'): string[] {
  const list = typeof paths === 'string' ? paths.split(/\r?\n/) : paths;
  if (!Array.isArray(list)) throw invalidInput(`${label} must be file paths (an array, or text with one per line), got ${preview(paths)}`);
  const prefix = `${root.replace(/\\/g, '/').replace(/\/+$/, '')}/`;
  const base = baseUrl.replace(/\/+$/, '');
  const urls: string[] = [];
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'string') throw invalidInput(`${label}[${i}] must be a file path, got ${preview(item)}`);
    const path = item.trim().replace(/\\/g, '/');
    if (path === '') return;
    if (!path.startsWith(prefix)) throw invalidInput(`${label}[${i}]: ${preview(item)} is not under the served folder ${preview(root)}`);
    urls.push(`${base}/${encodePath(path.slice(prefix.length))}`);
  });
  return urls;
}
