import { afterCrash, DEFAULT_RESTART_POLICY, describeRestart } from '../../cli/launcher/restart-policy';

const policy = DEFAULT_RESTART_POLICY;

describe("rpa start's restart policy", () => {
  it('doubles the delay with each crash in the window, up to the cap, and gives up after the limit', () => {
    const crashes: number[] = [];
    const decisions = [0, 2_000, 5_000, 10_000, 19_000, 36_000].map((at) => {
      crashes.push(at);
      return afterCrash(crashes, at, policy);
    });
    expect(decisions).toEqual([
      { giveUp: false, restart: 1, delayMs: 1_000 },
      { giveUp: false, restart: 2, delayMs: 2_000 },
      { giveUp: false, restart: 3, delayMs: 4_000 },
      { giveUp: false, restart: 4, delayMs: 8_000 },
      { giveUp: false, restart: 5, delayMs: 16_000 },
      { giveUp: true, crashes: 6 },
    ]);
    expect(afterCrash([0], 0, { ...policy, firstDelayMs: 20_000, maxDelayMs: 30_000 })).toMatchObject({
      delayMs: 20_000,
    });
    expect(afterCrash([0, 1, 2], 2, { ...policy, firstDelayMs: 20_000, maxDelayMs: 30_000 })).toMatchObject({
      delayMs: 30_000,
    });
  });

  it('forgets crashes older than the window: a child that ran a while starts over at the first delay', () => {
    expect(afterCrash([0, 1_000, 2_000, 3_000, 4_000, 70_000], 70_000, policy)).toEqual({
      giveUp: false,
      restart: 1,
      delayMs: 1_000,
    });
  });

  it('says what it will do', () => {
    expect(describeRestart({ restart: 1, delayMs: 1_000 }, policy)).toBe(
      'restarting in 1s (restart 1 of 5 in 60s)',
    );
  });
});
