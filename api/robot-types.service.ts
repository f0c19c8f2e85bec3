import { ConflictError, NotFoundError } from '../core/domain/errors';
import type {
  BuiltInRobotTypes,
  RobotTypeDefinition,
  RobotTypeRegistration,
} from '../core/domain/robot-types';
import type { DatabaseGuard } from '../db/database-guard';
import type { RobotTypesRepository } from '../db/robot-types.repository';
import { builtInRobotTypeView, type RobotTypeView, storedRobotTypeView } from '../db/views/robot-type.view';

/** Built-in types (code) and registered ones (Postgres, versioned): one catalogue. */
export class RobotTypesService {
  constructor(
    private readonly deps: {
      repository: RobotTypesRepository;
      guard: DatabaseGuard;
      builtIns: BuiltInRobotTypes;
    },
  ) {}

  async register(body: RobotTypeRegistration): Promise<RobotTypeView> {
    if (this.deps.builtIns.find(body.name)) {
      throw new ConflictError(`robot type ${body.name} is built in and cannot be overwritten`, {
        name: body.name,
      });
    }
    return storedRobotTypeView(await this.deps.guard.run(() => this.deps.repository.register(body)));
  }

  async list(): Promise<RobotTypeView[]> {
    const stored = await this.deps.guard.run(() => this.deps.repository.listLatest());
    return [...this.deps.builtIns.all.map(builtInRobotTypeView), ...stored.map(storedRobotTypeView)];
  }

  async get(name: string): Promise<RobotTypeView> {
    const builtIn = this.deps.builtIns.find(name);
    if (builtIn) return builtInRobotTypeView(builtIn);
    const stored = await this.deps.guard.run(() => this.deps.repository.latest(name));
    if (!stored) throw new NotFoundError(`robot type ${name} not found`);
    return storedRobotTypeView(stored);
  }

  async versions(name: string): Promise<RobotTypeView[]> {
    const builtIn = this.deps.builtIns.find(name);
    if (builtIn) return [builtInRobotTypeView(builtIn)];
    const stored = await this.deps.guard.run(() => this.deps.repository.versions(name));
    if (stored.length === 0) throw new NotFoundError(`robot type ${name} not found`);
    return stored.map(storedRobotTypeView);
  }

  /** The version a new robot of this type runs with (its snapshot goes into the workflow). */
  async current(name: string): Promise<RobotTypeDefinition | undefined> {
    return (
      this.deps.builtIns.find(name) ??
      (await this.deps.guard.run(() => this.deps.repository.latest(name)))?.definition
    );
  }

  /** The exact version a robot ran with (a retry runs it again). */
  async version(name: string, version: number): Promise<RobotTypeDefinition | undefined> {
    const builtIn = this.deps.builtIns.find(name);
    if (builtIn) return builtIn.version === version ? builtIn : undefined;
    return (await this.deps.guard.run(() => this.deps.repository.find(name, version)))?.definition;
  }
}
