/** Reading trackers out of a video result file (see the API reference, section 5). */
import { z } from 'zod';

export const trackerSchema = z
  .object({
    _id: z.string().optional(),
    type: z.string().optional(),
    label: z.string().optional(),
    frames: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type Tracker = z.infer<typeof trackerSchema>;

const resultFileSchema = z
  .object({
    data: z
      .object({
        // Video annotation says annotation_data; video segmentation says annotations_data.
        annotation_data: z
          .object({ annotations: z.array(trackerSchema) })
          .loose()
          .optional(),
        annotations_data: z
          .object({ annotations: z.array(trackerSchema) })
          .loose()
          .optional(),
      })
      .loose(),
  })
  .loose();

/** The trackers of a result file, or undefined when the file is not in a known shape. */
export function extractAnnotations(file: unknown): Tracker[] | undefined {
  const parsed = resultFileSchema.safeParse(file);
  if (!parsed.success) return undefined;
  const data = parsed.data.data;
  return data.annotation_data?.annotations ?? data.annotations_data?.annotations;
}
