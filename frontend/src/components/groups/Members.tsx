"use client";

import { useState } from "react";

import { api, data } from "@/lib/api/client";
import { messageOf } from "@/lib/api/problems";
import type { GroupDetail, GroupMember } from "@/lib/api/types";
import { useSubmit } from "@/lib/useSubmit";

import { Button } from "../ui/Button";
import { FormError, TextField } from "../ui/Field";
import { Badge } from "../ui/States";
import { toastError } from "../ui/Toasts";

function nameOf(member: GroupMember): string {
  return member.display_name ?? member.email ?? (member.status === "pending" ? "Invited" : "A former member");
}

/** Who is in the group; its owner invites by email and removes members. */
export function Members({ group, onChanged }: { group: GroupDetail; onChanged: () => void }) {
  const isOwner = group.role === "owner";
  const [email, setEmail] = useState("");
  const [removing, setRemoving] = useState<string | null>(null);
  const invite = useSubmit(async () => {
    await data(api.POST("/api/v1/groups/{group_id}/members", { params: { path: { group_id: group.id } }, body: { email: email.trim() } }));
    setEmail("");
    onChanged();
  });

  async function remove(member: GroupMember) {
    setRemoving(member.id);
    try {
      await data(api.DELETE("/api/v1/groups/{group_id}/members/{member_id}", { params: { path: { group_id: group.id, member_id: member.id } } }));
      onChanged();
    } catch (error) {
      toastError(`Could not remove ${nameOf(member)}: ${messageOf(error)}`);
    } finally {
      setRemoving(null);
    }
  }

  // The owner first, then who joined, then who is still invited.
  const order = (m: GroupMember) => (m.role === "owner" ? 0 : m.status === "active" ? 1 : 2);
  const members = [...group.members].sort((a, b) => order(a) - order(b) || a.created_at.localeCompare(b.created_at));

  return (
    <section aria-labelledby="members-heading" className="rounded-2xl bg-white p-5 shadow-sm ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800">
      <h2 id="members-heading" className="text-lg font-semibold">
        Members <span className="text-zinc-500 tabular-nums">({group.member_count})</span>
      </h2>
      {isOwner && (
        <form
          className="mt-4 space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            void invite.submit();
          }}
        >
          <FormError message={invite.formError} />
          <TextField
            label="Invite by email"
            type="email"
            required
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={invite.fieldErrors.email}
            hint="Someone without an account is invited to join, and becomes a member when they do."
          />
          <Button type="submit" busy={invite.busy} className="w-full">
            Invite
          </Button>
        </form>
      )}
      <ul className="mt-4 divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Members">
        {members.map((m) => (
          <li key={m.id} data-testid="member" className="flex items-center gap-2 py-2">
            <div className="min-w-0 flex-1">
              <p className="truncate text-sm font-medium">{nameOf(m)}</p>
              {m.email && m.display_name && <p className="truncate text-xs text-zinc-500">{m.email}</p>}
            </div>
            {m.role === "owner" ? <Badge tone="accent">Owner</Badge> : m.status === "pending" ? <Badge tone="amber">Pending</Badge> : <Badge tone="green">Member</Badge>}
            {isOwner && m.role !== "owner" && (
              <Button size="sm" variant="ghost" busy={removing === m.id} onClick={() => void remove(m)} aria-label={`Remove ${nameOf(m)} from the group`}>
                Remove
              </Button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
