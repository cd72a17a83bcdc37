// Times about sources are kept to the UTC day (invariant 2): this is the only place that turns a clock
// reading into something stored.
const DAY_MS = 86_400_000;

export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** Transient expiries are rounded up to the next whole hour so they do not record an exact moment either. */
export function expiryAfterHours(now: Date, hours: number): Date {
  const hour = 3_600_000;
  return new Date(Math.ceil((now.getTime() + hours * hour) / hour) * hour);
}

/** An idle upload's expiry: rounded up to five minutes, for the same reason. */
export function expiryAfterMinutes(now: Date, minutes: number): Date {
  const step = 300_000;
  return new Date(Math.ceil((now.getTime() + minutes * 60_000) / step) * step);
}
