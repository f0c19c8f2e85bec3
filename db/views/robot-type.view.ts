import type { RobotTypeDefinition } from '../../core/domain/robot-types';
import type { StoredRobotType } from '../robot-types.repository';

/** A robot type as the API shows it: the definition, where it lives, when it was registered. */
export type RobotTypeView = RobotTypeDefinition & { builtIn: boolean; createdAt: string | null };

export const builtInRobotTypeView = (definition: RobotTypeDefinition): RobotTypeView => ({
  ...definition,
  builtIn: true,
  createdAt: null,
});
export const storedRobotTypeView = ({ definition, createdAt }: StoredRobotType): RobotTypeView => ({
  ...definition,
  builtIn: false,
  createdAt: createdAt.toISOString(),
});
