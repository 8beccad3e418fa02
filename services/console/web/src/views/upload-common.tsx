/** What both uploads show: the file chooser (read and parsed in this browser), what was
detected in it, and the progress of sending its rows. */

import { useRef, useState } from "preact/hooks";
import { t } from "../i18n/index.ts";
import { CsvFileError, type ParsedCsv, parseCsv } from "../uploads/csv.ts";
import { ErrorNote } from "./common.tsx";

/** "Stop after this row": a flag the sending loop reads between rows, and whether it was
pressed (a ref, so the running loop sees it at once; state, so the page shows it). */
export function useStopper() {
  const stop = useRef(false);
  const [cancelled, setCancelled] = useState(false);
  const set = (value: boolean) => {
    stop.current = value;
    setCancelled(value);
  };
  return {
    stopped: () => stop.current,
    cancelled,
    reset: () => set(false),
    cancel: () => set(true),
  };
}

/** A chosen file: its bytes (for the digest) and its parsed rows. */
export interface Chosen {
  bytes: Uint8Array<ArrayBuffer>;
  parsed: ParsedCsv;
}

/** The file input; the file is parsed here and never sent as it is. */
export function CsvPicker(props: {
  id: string;
  known: readonly string[];
  required: readonly string[];
  disabled: boolean;
  onChosen: (chosen: Chosen | null) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [reading, setReading] = useState(false);
  const choose = async (event: Event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    setError(null);
    props.onChosen(null);
    if (!file) return;
    setReading(true);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      props.onChosen({ bytes, parsed: parseCsv(bytes, props.known, props.required) });
    } catch (failure) {
      setError(failure);
    } finally {
      setReading(false);
    }
  };
  return (
    <div class="field">
      <label for={props.id}>{t("upload.file")}</label>
      <input
        id={props.id}
        type="file"
        accept=".csv,.txt,text/csv,text/plain"
        disabled={props.disabled}
        aria-describedby={`${props.id}-help`}
        onChange={choose}
      />
      <p class="muted help" id={`${props.id}-help`}>
        {t("upload.file_help")}
      </p>
      {reading && <p role="status">{t("upload.reading")}</p>}
      {error instanceof CsvFileError ? (
        <p class="error" role="alert">
          {t(`upload.file_error.${error.code}`)}
        </p>
      ) : (
        <ErrorNote error={error} />
      )}
    </div>
  );
}

/** The encoding and delimiter found, the rows, and columns that are missing or unknown. */
export function Detected({ parsed, bad }: { parsed: ParsedCsv; bad: number }) {
  return (
    <div class="detected" role="status">
      <p data-encoding={parsed.encoding} data-delimiter={parsed.delimiter}>
        {t("upload.detected", {
          encoding: t(`upload.encoding.${parsed.encoding}`),
          delimiter: t(`upload.delimiter.${parsed.delimiter}`),
        })}
      </p>
      <p>
        <span class="rows-found">{t("upload.rows_found", { n: parsed.rows.length })}</span>{" "}
        <span class="rows-bad">{t("upload.rows_bad", { n: bad })}</span>
      </p>
      {parsed.missing.length > 0 && (
        <p class="error">{t("upload.missing_columns", { columns: parsed.missing.join(", ") })}</p>
      )}
      {parsed.unknown.length > 0 && (
        <p class="error">{t("upload.unknown_columns", { columns: parsed.unknown.join(", ") })}</p>
      )}
    </div>
  );
}

/** The progress bar while rows are sent, and what ended the run. */
export function Progress(props: {
  id: string;
  done: number;
  total: number;
  running: boolean;
  cancelled: boolean;
  onCancel: () => void;
}) {
  const { id, done, total } = props;
  return (
    <div class="upload-progress">
      <label for={id}>{t("upload.progress")}</label>
      <progress id={id} max={Math.max(total, 1)} value={done} />
      <p role="status" class="progress-text">
        {props.cancelled && !props.running
          ? t("upload.cancelled", { done, total })
          : t("upload.progress_text", { done, total })}
      </p>
      {props.running && (
        <button type="button" onClick={props.onCancel} disabled={props.cancelled}>
          {t("upload.cancel")}
        </button>
      )}
    </div>
  );
}
