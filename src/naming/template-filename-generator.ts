import { inject, injectable } from 'inversify';
import { extensionFor, type FilenameContext, type FilenameGenerator } from './filename-generator.js';
import { DEFAULT_FILENAME_TEMPLATE, FilenameTemplate, parseFilenameTemplate } from './filename-template.js';

/**
 * Names files from a template (`{blog}/{postId}_{index}.{ext}`): the default {@link FilenameGenerator}, bound
 * by the module to the config's `filenameTemplate` (through the {@link FilenameTemplate} token). With the
 * default template its names are those of {@link DefaultFilenameGenerator}, byte for byte.
 *
 * Each field becomes one sanitized segment (see {@link FilenameTemplate}), so an item's values can never
 * add a folder, leave the output folder or reach `.tumblr-dl/`. A host wanting other names rebinds
 * {@link FilenameGenerator}, or subclasses this class (with `@injectFromBase`) and overrides
 * {@link extensionFor} or {@link generateFilename}.
 */
@injectable()
export class TemplateFilenameGenerator implements FilenameGenerator {
  /** The parsed template every name follows. */
  readonly template: FilenameTemplate;

  /**
   * @param template a parsed template, or its text (parsed here)
   * @throws DownloadError `INVALID_CONFIG` for a template text that does not parse
   */
  constructor(@inject(FilenameTemplate) template: FilenameTemplate | string = DEFAULT_FILENAME_TEMPLATE) {
    this.template = typeof template === 'string' ? parseFilenameTemplate(template) : template;
  }

  generateFilename(context: FilenameContext): string {
    return this.template.render(context, this.extensionFor(context));
  }

  /** The extension of a name, as `{ext}`: {@link extensionFor} unless a subclass decides otherwise. */
  protected extensionFor(context: FilenameContext): string {
    return extensionFor(context);
  }
}
