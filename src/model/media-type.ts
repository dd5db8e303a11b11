/** What the host asked for. `file` is anything else: no media checks apply. */
export type MediaType = 'image' | 'video' | 'gif' | 'audio' | 'file';

/** What the bytes turned out to be, as reported in results: an "image" that is an MP4 is a `video`. */
export type DetectedMediaType = MediaType;

/** Media formats recognised from their first bytes (see {@link detectFormat}). */
export type DetectedFormat =
  'jpeg' | 'png' | 'apng' | 'gif' | 'webp' | 'avif' | 'heic' | 'jxl' | 'bmp' | 'tiff' | 'mp4' | 'mov' | 'm4v' | 'avi' | 'webm' | 'mkv' | 'mp3' | 'm4a' | 'ogg' | 'wav';
