/** A clock that only moves when told to: pass `now` as the simulator's `clock`. */

export interface VirtualClock {
  readonly now: () => number;
  advance(ms: number): number;
  set(time: number): void;
}

export function createVirtualClock(start: number): VirtualClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
      return time;
    },
    set: (t) => {
      time = t;
    },
  };
}
