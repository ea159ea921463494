import { useState } from 'react';

/**
 * Keyset paging through a list the server pages with a `next` cursor: `before` is this page's
 * cursor, `reset` goes back to the first page (when a filter changes), `pager` draws the buttons.
 */
export function usePages() {
  // The cursors of the pages before this one, to go back; the last is this page's own.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  return {
    before: cursors[cursors.length - 1],
    reset: () => setCursors([undefined]),
    pager: (next: string | null) =>
      (cursors.length > 1 || next) && (
        <div className="pager">
          <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
            Older →
          </button>
        </div>
      ),
  };
}
