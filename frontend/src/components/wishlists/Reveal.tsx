"use client";

import { useState } from "react";
import { useSWRConfig } from "swr";

import { keys, refreshPaged } from "@/lib/api/hooks";
import type { Reveal, WishlistDetail } from "@/lib/api/types";
import { FORMER_MEMBER, giversText } from "@/lib/gifting/names";
import { revealList } from "@/lib/gifting/reveal";
import { formatDate } from "@/lib/format";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { Dialog } from "../ui/Dialog";
import { FormError, TextField } from "../ui/Field";

type Step = { name: "ask" } | { name: "too-early" } | { name: "revealed"; reveal: Reveal };

const TITLES: Record<Step["name"], string> = {
  ask: "Reveal this list?",
  "too-early": "Reveal before the occasion?",
  revealed: "What you received",
};

function Summary({ reveal, onDone }: { reveal: Reveal; onDone: () => void }) {
  return (
    <div data-testid="reveal-summary">
      <h3 className="text-sm font-semibold">Received</h3>
      {reveal.received.length === 0 ? (
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Nothing was reserved.</p>
      ) : (
        <ul className="mt-1 divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Received">
          {reveal.received.map((item) => (
            <li key={item.id} className="py-2 text-sm">
              <span className="block font-medium break-words">{item.title}</span>
              <span className="block text-zinc-600 dark:text-zinc-400">{giversText(item.given_by)}</span>
            </li>
          ))}
        </ul>
      )}
      <h3 className="mt-5 text-sm font-semibold">Suggestions from your friends</h3>
      {reveal.suggestions.length === 0 ? (
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">None.</p>
      ) : (
        <ul className="mt-1 divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Suggestions">
          {reveal.suggestions.map((item) => (
            <li key={item.id} className="py-2 text-sm">
              <span className="block font-medium break-words">{item.title}</span>
              <span className="block text-zinc-600 dark:text-zinc-400">Suggested by {item.suggested_by?.display_name ?? FORMER_MEMBER}</span>
            </li>
          ))}
        </ul>
      )}
      <p className="mt-5 text-xs text-zinc-500">Received items are in the list’s archive; suggestions nobody reserved are now on your list.</p>
      <div className="mt-6 flex justify-end">
        <Button onClick={onDone}>Done</Button>
      </div>
    </div>
  );
}

/**
 * The owner's reveal: a confirmation, a second one when the occasion has not
 * come (a reveal cannot be taken back), then what it uncovered.
 */
export function RevealDialog({ wishlist, open, onClose }: { wishlist: WishlistDetail; open: boolean; onClose: () => void }) {
  const { mutate } = useSWRConfig();
  const [step, setStep] = useState<Step>({ name: "ask" });
  const [nextDate, setNextDate] = useState("");
  const { busy, fieldErrors, formError, submit } = useSubmit(async (early: boolean) => {
    const outcome = await revealList(wishlist.id, { early, nextOccasionDate: nextDate || null });
    if (outcome.status === "too-early") {
      setStep({ name: "too-early" });
      return;
    }
    setStep({ name: "revealed", reveal: outcome.reveal });
    void mutate(keys.wishlist(wishlist.id));
    void refreshPaged(keys.archive(wishlist.id));
    void refreshPaged(keys.myLists);
  });

  const close = () => {
    onClose();
    setStep({ name: "ask" });
    setNextDate("");
  };
  const date = formatDate(wishlist.occasion_date);

  return (
    <Dialog open={open} title={TITLES[step.name]} onClose={close}>
      {step.name === "revealed" ? (
        <Summary reveal={step.reveal} onDone={close} />
      ) : (
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            void submit(step.name === "too-early");
          }}
        >
          <FormError message={formError} />
          {step.name === "ask" ? (
            <>
              <p className="text-sm text-zinc-600 dark:text-zinc-400">
                You will see which gifts were reserved, by whom, and what your friends suggested. Reserved items move to the archive; the list stays for next time, and
                new reservations are hidden again. A reveal cannot be taken back.
              </p>
              <TextField
                label="Next occasion date (optional)"
                type="date"
                value={nextDate}
                onChange={(e) => setNextDate(e.target.value)}
                error={fieldErrors.next_occasion_date}
              />
            </>
          ) : (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              {date ? `The occasion, ${date}, has not come yet.` : "This list has no occasion date."} Revealing now spoils the surprise of any gift still to come. Reveal
              anyway?
            </p>
          )}
          <div className="flex justify-end gap-2 pt-2">
            <Button variant="secondary" onClick={close}>
              {step.name === "ask" ? "Cancel" : "Not yet"}
            </Button>
            <Button type="submit" busy={busy}>
              {step.name === "ask" ? "Reveal" : "Reveal early"}
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
