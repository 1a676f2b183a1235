// The confirmation every action that changes jobs asks first: a modal dialog that opens on the answer that changes
// nothing, closes on Escape or that answer, and gives the focus back to the button that opened it (the browser does
// so when a modal dialog closes, so the dialog is closed before it leaves the page). Once the action is done, that
// button may be gone with it (Cancel on a cancelled job): `onDone` puts the focus where the answer shows.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useAction } from './action.js';
import { messageOf } from './api.js';

interface Props {
  /** The question, as the dialog's title: "Cancel job-1?". */
  readonly title: string;
  /** What the action will do. */
  readonly explanation: string;
  /** The answer that changes nothing: "Keep it". */
  readonly keepLabel: string;
  /** The answer that acts: "Cancel job". */
  readonly actLabel: string;
  /** Cancelling is shown as dangerous, retrying not. */
  readonly danger: boolean;
  /** The acting button's data attribute, for scripts and tests: `data-confirm="cancel"`. */
  readonly actData: Readonly<Record<`data-${string}`, string>>;
  /** Acts; the dialog closes once it resolves and shows what it threw otherwise. */
  readonly onConfirm: () => Promise<void>;
  /** The action is done and the dialog closed. */
  readonly onDone: () => void;
  /** The dialog closed, whichever way: the opener stops rendering it. */
  readonly onClose: () => void;
  readonly onUnauthorized: () => void;
  /** How a failure reads (default: the API's message). */
  readonly problemOf?: (err: unknown) => string;
}

export function ConfirmDialog(props: Props) {
  const { title, explanation, keepLabel, actLabel, danger, actData, onConfirm, onDone, onClose, onUnauthorized } =
    props;
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  const action = useAction(onUnauthorized, props.problemOf ?? messageOf);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const close = () => dialog.current?.close();
  const confirm = () =>
    void action.run(async () => {
      await onConfirm();
      close();
      onDone();
    });
  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-explanation`}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <p id={`${id}-explanation`}>{explanation}</p>
      {action.problem && (
        <p class="notice notice-error" role="alert">
          {action.problem}
        </p>
      )}
      <div class="dialog-buttons">
        <button type="button" class="button-quiet" autofocus onClick={close}>
          {keepLabel}
        </button>
        <button
          type="button"
          class={danger ? 'button-danger' : 'button-primary'}
          {...actData}
          disabled={action.busy}
          onClick={confirm}
        >
          {action.busy ? 'Working…' : actLabel}
        </button>
      </div>
    </dialog>
  );
}

/**
 * Which action's dialog is open. Each opening is a new dialog (its `key`): the close event of the one before may still
 * be queued when its opener is pressed again (Escape, then Enter at once), and it closes only the dialog it came from.
 */
export function useConfirmation<Action>() {
  const openings = useRef(0);
  const [open, setOpen] = useState<{ readonly action: Action; readonly key: number }>();
  return {
    open: open && {
      ...open,
      close: () => setOpen((current) => (current?.key === open.key ? undefined : current)),
    },
    ask: (action: Action) => setOpen({ action, key: ++openings.current }),
  };
}
