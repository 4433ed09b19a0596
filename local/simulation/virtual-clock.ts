/** The simulation's time: a clock the harness sets, and the fixed instant every run starts at. */

import type { Clock } from '#ports/clock.js';

/** A clock that reads whatever the harness last set `time` to. */
export class VirtualClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
}

/** Every run starts here, so that a seed replays exactly. */
export const START = Date.UTC(2026, 0, 5, 0, 0, 0);
