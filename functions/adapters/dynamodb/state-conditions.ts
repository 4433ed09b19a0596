import type { StateVersion } from '#core/state-order.js';

/**
 * `compareStates` (core/state-order.ts) as DynamoDB condition expressions, so that conditional writes
 * order states by the very rule the core uses: by sequence when both states carry one, else by the
 * exchange's update time. The store contract tests hold both sides to the same answers.
 */

/** A condition with exactly the names and values it uses (DynamoDB refuses unused ones). */
export interface StateCondition {
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The stored state is newer than `version` (`'>'`) or older (`'<'`). The state's attributes are
 * `stateSequence` and `stateUpdatedAt` at the item's top level, or inside the map attribute `within`
 * (a suspect's `position`). `valuePrefix` names the value placeholders, so several conditions can
 * share one request.
 */
export function storedStateIs(
  comparison: '>' | '<',
  version: StateVersion,
  valuePrefix: string,
  within?: string,
): StateCondition {
  const path = within === undefined ? '' : '#within.';
  const container: Record<string, string> = within === undefined ? {} : { '#within': within };
  const at = `${valuePrefix}_at`;
  const updatedAt = `${path}#stateAt`;
  if (version.stateSequence === undefined) {
    return {
      expression: `${updatedAt} ${comparison} ${at}`,
      names: { ...container, '#stateAt': 'stateUpdatedAt' },
      values: { [at]: version.stateUpdatedAt },
    };
  }
  const seq = `${valuePrefix}_seq`;
  const sequence = `${path}#stateSeq`;
  return {
    expression:
      `((attribute_exists(${sequence}) AND ${sequence} ${comparison} ${seq})` +
      ` OR (attribute_not_exists(${sequence}) AND ${updatedAt} ${comparison} ${at}))`,
    names: { ...container, '#stateAt': 'stateUpdatedAt', '#stateSeq': 'stateSequence' },
    values: { [at]: version.stateUpdatedAt, [seq]: version.stateSequence },
  };
}
