// Dates as admins read them. Always UTC and always labelled, so server-rendered text means the same to everyone.
const dateFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export const formatDate = (value: Date | string) => dateFormat.format(new Date(value));
export const formatDateTime = (value: Date | string) => `${dateTimeFormat.format(new Date(value))} UTC`;
const timestampFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" });
/** To the second: for logs, where several events share a minute. */
export const formatTimestamp = (value: Date | string) => `${timestampFormat.format(new Date(value))} UTC`;
