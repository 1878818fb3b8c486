"use client";

import { useState } from "react";

import { ApiError, messageOf } from "@/lib/api/problems";

/**
 * A form's submit state: busy while it runs, then the API's complaints split
 * into messages per field and one for the form.
 */
export function useSubmit<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);

  async function submit(...args: A): Promise<boolean> {
    setBusy(true);
    setFieldErrors({});
    setFormError(null);
    try {
      await action(...args);
      return true;
    } catch (error) {
      const fields = error instanceof ApiError ? error.fieldErrors : {};
      setFieldErrors(fields);
      setFormError(Object.keys(fields).length > 0 ? null : messageOf(error));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return { busy, fieldErrors, formError, submit, setFormError };
}
