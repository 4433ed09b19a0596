/**
 * AWS list prices the cost model uses: us-east-1, on demand, no free tier, no savings plans. Dated:
 * when AWS changes one, change it here and re-run `npm run cost`. Each figure is in US dollars.
 */
export const PRICES = {
  /** When these were last checked against AWS's price pages, and which revision they reflect. */
  checked: '2026-11-30 (DynamoDB on-demand after the 2024-11 cut; the others unchanged since 2023)',
  region: 'us-east-1',
  dynamodb: {
    /** Per million read request units (one strongly consistent read of up to 4 KB, or two eventual). */
    readRequestUnit: 0.125 / 1e6,
    /** Per million write request units (one write of up to 1 KB; a failed conditional write too). */
    writeRequestUnit: 0.625 / 1e6,
    /** Per GB-month of table storage (indexes included). */
    storageGbMonth: 0.25,
    /** Continuous backups (point-in-time recovery), per GB-month. */
    pitrGbMonth: 0.2,
  },
  sqs: {
    /** Per request of a standard queue (a batch of up to 10 messages and 64 KB is one request). */
    request: 0.4 / 1e6,
  },
  lambda: {
    /** arm64, per GB-second. */
    gbSecond: 0.0000133334,
    request: 0.2 / 1e6,
  },
  cloudwatch: {
    /** Logs: per GB ingested (standard class), and per GB-month stored. */
    logIngestGb: 0.5,
    logStorageGbMonth: 0.03,
    /** Custom metrics, per metric (name × dimension set) per month, first 10,000. */
    metricMonth: 0.3,
    /** Standard-resolution alarm, per month. */
    alarmMonth: 0.1,
    /** Per dashboard per month beyond the first three of an account. */
    dashboardMonth: 3,
  },
  secretsManager: {
    secretMonth: 0.4,
    /** Per API call (GetSecretValue). */
    apiCall: 0.05 / 1e4,
  },
  kms: {
    /** Customer managed key, per month. */
    keyMonth: 1,
    /** Per request (Decrypt). */
    request: 0.03 / 1e4,
  },
  fargate: {
    /** Linux/x86, per vCPU-hour and per GB-hour. */
    vcpuHour: 0.04048,
    gbHour: 0.004445,
    /** A public IPv4 address, per hour (a container that calls Bybit needs one, or a NAT). */
    ipv4Hour: 0.005,
  },
} as const;

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3_600;
