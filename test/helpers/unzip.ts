import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";

/** Extracts a zip (a Lambda artifact) into `dir`; resolves with the names of its files. */
export function unzip(file: string, dir: string): Promise<string[]> {
  const root = resolve(dir);
  return new Promise((done, fail) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error !== null || zip === undefined) {
        fail(error ?? new Error(`cannot open ${file}`));
        return;
      }
      const names: string[] = [];
      zip.on("entry", (entry: yauzl.Entry) => {
        const target = resolve(join(root, entry.fileName));
        if (!target.startsWith(root + sep)) {
          fail(new Error(`zip entry outside the target folder: ${entry.fileName}`));
          return;
        }
        if (entry.fileName.endsWith("/")) {
          zip.readEntry();
          return;
        }
        names.push(entry.fileName);
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError !== null || stream === undefined) {
            fail(streamError ?? new Error(`cannot read ${entry.fileName}`));
            return;
          }
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => zip.readEntry(), fail);
        });
      });
      zip.once("end", () => done(names));
      zip.once("error", fail);
      zip.readEntry();
    });
  });
}

/** The files of a zip with their uncompressed sizes, without extracting it. */
export function listZip(file: string): Promise<Array<{ name: string; size: number }>> {
  return new Promise((done, fail) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error !== null || zip === undefined) {
        fail(error ?? new Error(`cannot open ${file}`));
        return;
      }
      const entries: Array<{ name: string; size: number }> = [];
      zip.on("entry", (entry: yauzl.Entry) => {
        if (!entry.fileName.endsWith("/")) entries.push({ name: entry.fileName, size: entry.uncompressedSize });
        zip.readEntry();
      });
      zip.once("end", () => done(entries));
      zip.once("error", fail);
      zip.readEntry();
    });
  });
}
