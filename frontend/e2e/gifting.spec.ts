/**
 * Gifting in a real browser: a family group, a suggestion the owner never
 * sees, a reservation whose name only the other viewers see (and only if
 * the reserver wants), then the owner's early reveal and the archive.
 */
import { expect, test } from "@playwright/test";

import { addItem, createList, newPerson, openNav, shot } from "./helpers";

test("a group shares a list, suggests and reserves by name, and the owner reveals it", async ({ browser }, info) => {
  const owner = await newPerson(browser, "Olivia");
  const mia = await newPerson(browser, "Mia");
  const ben = await newPerson(browser, "Ben");

  // --- the owner makes a group and adds two registered members
  await openNav(owner.page, "Groups");
  await expect(owner.page.getByText("No groups yet")).toBeVisible();
  await owner.page.getByRole("button", { name: "New group" }).first().click();
  const groupDialog = owner.page.getByRole("dialog", { name: "New group" });
  await groupDialog.getByLabel("Group name").fill("The Smiths");
  await groupDialog.getByRole("button", { name: "Create group" }).click();
  await owner.page.waitForURL(/\/groups\/[0-9a-f-]{36}$/);
  await expect(owner.page.getByRole("heading", { level: 1, name: "The Smiths" })).toBeVisible();
  for (const member of [mia, ben]) {
    await owner.page.getByLabel("Invite by email").fill(member.email);
    await owner.page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(owner.page.getByTestId("member").filter({ hasText: member.name })).toContainText("Member");
  }
  await expect(owner.page.getByTestId("member").filter({ hasText: "Olivia" })).toContainText("Owner");
  await shot(owner.page, info, "group");

  // --- the members see the group
  await openNav(mia.page, "Groups");
  await expect(mia.page.getByRole("link", { name: /The Smiths/ })).toBeVisible();
  await shot(mia.page, info, "groups");

  // --- the owner makes a list (no occasion date) and shares it with the group
  await openNav(owner.page, "My lists");
  const listUrl = await createList(owner.page, "Olivia’s Christmas");
  await addItem(owner.page, "Scarf", "30");
  await owner.page.getByLabel("Share with a group").selectOption({ label: "The Smiths" });
  await owner.page.getByRole("button", { name: "Share with group" }).click();
  await expect(owner.page.getByTestId("group-share")).toContainText("The Smiths");

  // --- a member hears of it, named by the group, and opens it
  await mia.page.getByRole("button", { name: /^Notifications/ }).click();
  await expect(mia.page.getByTestId("notification").filter({ hasText: "with your group “The Smiths”" })).toContainText(
    "Olivia shared “Olivia’s Christmas” with your group “The Smiths”",
  );
  await mia.page.keyboard.press("Escape");
  await openNav(mia.page, "Shared with me");
  await mia.page.getByRole("link", { name: /Olivia’s Christmas/ }).click();
  await mia.page.waitForURL(listUrl);

  // --- she suggests an item, and reserves the scarf with her name shown
  await mia.page.getByRole("button", { name: "Suggest an item" }).click();
  const suggestDialog = mia.page.getByRole("dialog", { name: "Suggest an item" });
  await suggestDialog.getByLabel("What is it?").fill("Board game");
  await suggestDialog.getByLabel("Price").fill("40");
  await suggestDialog.getByRole("button", { name: "Suggest item" }).click();
  await expect(suggestDialog).toBeHidden();
  const suggestion = mia.page.getByTestId("item").filter({ hasText: "Board game" });
  await expect(suggestion.getByTestId("availability")).toContainText("Suggested by you");
  await expect(suggestion.getByRole("button", { name: "Edit my suggestion Board game" })).toBeVisible();
  const scarf = mia.page.getByTestId("item").filter({ hasText: "Scarf" });
  await scarf.getByLabel("Show my name to other viewers").check();
  await scarf.getByRole("button", { name: "Reserve Scarf" }).click();
  await expect(scarf.getByTestId("availability")).toContainText("Reserved by you");
  await shot(mia.page, info, "viewer-suggestion");

  // --- the other member sees the suggestion and who reserved the scarf
  await ben.page.goto(listUrl);
  await expect(ben.page.getByTestId("item").filter({ hasText: "Board game" }).getByTestId("availability")).toContainText("Suggested by Mia");
  await expect(ben.page.getByTestId("item").filter({ hasText: "Board game" }).getByRole("button", { name: /Edit my suggestion/ })).toHaveCount(0);
  await expect(ben.page.getByTestId("item").filter({ hasText: "Scarf" }).getByTestId("reservers")).toHaveText("Reserved by Mia");
  await shot(ben.page, info, "viewer-named-reservation");

  // --- Mia hides her name from her shopping list; Ben no longer sees it
  await openNav(mia.page, "Shopping list");
  const line = mia.page.getByTestId("reservation").filter({ hasText: "Scarf" });
  await expect(line.getByLabel("Show my name on Scarf to other viewers")).toBeChecked();
  await line.getByLabel("Show my name on Scarf to other viewers").uncheck();
  await mia.page.reload();
  await expect(mia.page.getByTestId("reservation").filter({ hasText: "Scarf" }).getByLabel("Show my name on Scarf to other viewers")).not.toBeChecked();
  await ben.page.reload();
  await expect(ben.page.getByTestId("item").filter({ hasText: "Scarf" }).getByTestId("availability")).toContainText("Already reserved");
  await expect(ben.page.getByTestId("item").filter({ hasText: "Scarf" }).getByTestId("reservers")).toHaveCount(0);

  // --- the owner sees neither the suggestion nor any reservation
  await owner.page.reload();
  await expect(owner.page.getByRole("heading", { level: 1, name: "Olivia’s Christmas" })).toBeVisible();
  await expect(owner.page.getByTestId("item")).toHaveCount(1);
  const ownerText = (await owner.page.locator("main").innerText()).toLowerCase();
  for (const spoiler of [/board game/, /mia/, /suggest/, /reserved/, /already/]) {
    expect(ownerText).not.toMatch(spoiler);
  }

  // --- the owner reveals before the occasion: asked twice, then shown everything
  await owner.page.getByRole("button", { name: "Reveal", exact: true }).click();
  const reveal = owner.page.getByRole("dialog");
  await expect(reveal).toHaveAccessibleName("Reveal this list?");
  await reveal.getByRole("button", { name: "Reveal", exact: true }).click();
  await expect(reveal).toHaveAccessibleName("Reveal before the occasion?");
  await expect(reveal).toContainText("This list has no occasion date.");
  await reveal.getByRole("button", { name: "Reveal early" }).click();
  await expect(reveal).toHaveAccessibleName("What you received");
  const summary = reveal.getByTestId("reveal-summary");
  await expect(summary.getByRole("list", { name: "Received" })).toContainText("Scarf");
  await expect(summary.getByRole("list", { name: "Received" })).toContainText("From Mia");
  await expect(summary.getByRole("list", { name: "Suggestions" })).toContainText("Board game");
  await expect(summary.getByRole("list", { name: "Suggestions" })).toContainText("Suggested by Mia");
  await shot(owner.page, info, "reveal-summary");
  await reveal.getByRole("button", { name: "Done" }).click();

  // --- the unreserved suggestion is now the owner's; the scarf is in the archive, with its giver
  await expect(owner.page.getByTestId("item").filter({ hasText: "Board game" })).toBeVisible();
  await expect(owner.page.getByTestId("item").filter({ hasText: "Scarf" })).toHaveCount(0);
  await owner.page.getByRole("tab", { name: "Archive" }).click();
  const archived = owner.page.getByTestId("item").filter({ hasText: "Scarf" });
  await expect(archived.getByTestId("received")).toContainText("From Mia");
  await shot(owner.page, info, "archive");

  // --- a viewer sees the archive, without who gave what
  await ben.page.reload();
  await ben.page.getByRole("tab", { name: "Archive" }).click();
  const seen = ben.page.getByTestId("item").filter({ hasText: "Scarf" });
  await expect(seen.getByTestId("received")).toContainText("Received");
  await expect(seen.getByTestId("received")).not.toContainText("Mia");
});
