/** The day ranges the dashboard offers (the API accepts 1–365). */
export const RANGES = [7, 30, 90] as const;
export const DEFAULT_RANGE = 30;
