import yauzl from 'yauzl';
import { IntakeError, describeFile } from './intake-error.js';

/**
 * Limits on the ZIP container of a .docx, checked before anything is unpacked. A real Word
 * document holds a few dozen parts and compresses its XML 5-30 times; a zip bomb claims (or hides)
 * hundreds of megabytes in a small file.
 */
export const DOCX_ZIP_LIMITS = {
  /** Most parts (files) in the archive. */
  maxEntries: 1_000,
  /** Most bytes all parts may unpack to, as the central directory declares them. */
  maxUnpackedBytes: 100 * 1024 * 1024,
  /**
   * Most bytes the XML parts mammoth parses may unpack to. mammoth builds a DOM of them, which
   * costs about 50 bytes of memory per byte of XML and 0.3 s per MB (measured: 10 MB of XML took
   * 3.3 s and 500 MB; 15 MB, 5 s and 740 MB); 10 MB holds about 2 million characters of text with
   * ordinary formatting, the most a story may have anyway.
   */
  maxXmlBytes: 10 * 1024 * 1024,
  /** Highest compression ratio of one part that unpacks to more than `ratioFromBytes`. */
  maxRatio: 100,
  ratioFromBytes: 1024 * 1024,
} as const;

export interface ZipSummary {
  entries: number;
  /** Sum of the declared unpacked sizes, bytes. */
  unpackedBytes: number;
  /** Bytes actually inflated while checking the parts a Word reader opens (XML and relationships). */
  verifiedBytes: number;
}

/** The parts a Word reader (mammoth) opens: XML and relationship parts. Images and the like are never unpacked. */
const READ_PARTS = /\.(xml|rels)$/i;

/**
 * Checks the ZIP container of a .docx with yauzl, without unpacking it into memory:
 *
 * 1. the central directory: number of entries, total declared unpacked size, compression ratio of
 *    each large entry, encryption flags (refused at once, from the directory alone);
 * 2. the parts mammoth will read (`*.xml`, `*.rels`) are inflated as a stream and counted, then
 *    dropped: a part that inflates to more (or fewer) bytes than the directory declares is refused
 *    as soon as it does, so a bomb that lies in its directory cannot get past step 1 either.
 *
 * Memory stays bounded (zlib's window and one chunk at a time), whatever the archive claims.
 *
 * @throws IntakeError `file-too-large` (over a limit in {@link DOCX_ZIP_LIMITS}),
 *   `encrypted-document` (encrypted ZIP entries), `corrupt-document` (not a readable ZIP, or
 *   sizes that do not match the directory)
 */
export async function checkDocxZip(bytes: Uint8Array, fileName?: string): Promise<ZipSummary> {
  const name = describeFile(fileName);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (cause) {
    throw corruptZip(fileName, cause);
  }
  try {
    if (zip.entryCount > DOCX_ZIP_LIMITS.maxEntries) {
      throw new IntakeError(
        'file-too-large',
        `${name} holds ${zip.entryCount.toLocaleString('en')} parts; a Word document may hold at most ${DOCX_ZIP_LIMITS.maxEntries.toLocaleString('en')}. Save the story as a new .docx (or as .txt) and upload that.`,
        fileName,
      );
    }
    const toVerify: yauzl.Entry[] = [];
    let unpackedBytes = 0;
    let xmlBytes = 0;
    for await (const entry of zip.eachEntry()) {
      unpackedBytes += entry.uncompressedSize;
      if (unpackedBytes > DOCX_ZIP_LIMITS.maxUnpackedBytes) {
        throw new IntakeError(
          'file-too-large',
          `${name} would unpack to more than ${megabytes(DOCX_ZIP_LIMITS.maxUnpackedBytes)}, the most a Word document may hold; it may be a zip bomb. Save the story as a new .docx (or as .txt) and upload that.`,
          fileName,
        );
      }
      if (entry.uncompressedSize > DOCX_ZIP_LIMITS.ratioFromBytes && entry.uncompressedSize > entry.compressedSize * DOCX_ZIP_LIMITS.maxRatio) {
        const ratio = Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize));
        throw new IntakeError(
          'file-too-large',
          `${name} has a part that unpacks ${ratio.toLocaleString('en')} times larger than it is stored (${megabytes(entry.uncompressedSize)}); real documents stay under ${DOCX_ZIP_LIMITS.maxRatio}:1, zip bombs do not. Save the story as a new .docx (or as .txt) and upload that.`,
          fileName,
        );
      }
      if (entry.isEncrypted()) {
        throw new IntakeError(
          'encrypted-document',
          `${name} is an encrypted ZIP archive; remove the password, save it as .docx and upload it again.`,
          fileName,
        );
      }
      if (READ_PARTS.test(entry.fileName)) {
        toVerify.push(entry);
        xmlBytes += entry.uncompressedSize;
      }
    }
    if (xmlBytes > DOCX_ZIP_LIMITS.maxXmlBytes) {
      throw new IntakeError(
        'file-too-large',
        `${name} holds ${megabytes(xmlBytes)} of document XML; at most ${megabytes(DOCX_ZIP_LIMITS.maxXmlBytes)} can be read (about 2 million characters of text). Split the story into smaller files, or save it as .txt.`,
        fileName,
      );
    }
    let verifiedBytes = 0;
    for (const entry of toVerify) verifiedBytes += await inflatedSize(zip, entry, fileName);
    return { entries: zip.entryCount, unpackedBytes, verifiedBytes };
  } catch (error) {
    if (error instanceof IntakeError) throw error;
    throw corruptZip(fileName, error);
  } finally {
    zip.close();
  }
}

/** Inflates one entry as a stream and counts its bytes; yauzl fails the stream when the count differs from the directory. */
async function inflatedSize(zip: yauzl.ZipFile, entry: yauzl.Entry, fileName?: string): Promise<number> {
  let size = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream) size += (chunk as Buffer).length;
  } catch (cause) {
    throw new IntakeError(
      'corrupt-document',
      `${describeFile(fileName)} is damaged: its part ${JSON.stringify(entry.fileName)} does not unpack to the size its ZIP directory declares (a damaged file, or a zip bomb). Open it in Word, save it again and upload the new file.`,
      fileName,
      { cause },
    );
  }
  return size;
}

function corruptZip(fileName: string | undefined, cause: unknown): IntakeError {
  return new IntakeError(
    'corrupt-document',
    `${describeFile(fileName)} is damaged or incomplete (its ZIP structure cannot be read) and cannot be read as a Word document; open it in Word, save it again (or save it as .txt) and upload the new file.`,
    fileName,
    { cause },
  );
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024)).toLocaleString('en')} MB`;
}
