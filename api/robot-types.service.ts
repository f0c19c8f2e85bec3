import { customStepProblems } from '../core/domain/custom-step-params';
import { ConflictError, NotFoundError, ValidationError } from '../core/domain/errors';
import type {
  BuiltInRobotTypes,
  RobotTypeDefinition,
  RobotTypeRegistration,
} from '../core/domain/robot-types';
import {
  currentDeclaration,
  type DeclaredStepKind,
  type StepDeclaration,
} from '../core/domain/step-declarations';
import { isBuiltInKind } from '../core/domain/step-kinds';
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
      /** The step catalog's declarations: custom-kind steps are checked against them. */
      stepKinds: { declared(kinds: readonly string[]): Promise<DeclaredStepKind[]> };
    },
  ) {}

  async register(body: RobotTypeRegistration): Promise<RobotTypeView> {
    if (this.deps.builtIns.find(body.name)) {
      throw new ConflictError(`robot type ${body.name} is built in and cannot be overwritten`, {
        name: body.name,
      });
    }
    await this.checkCustomSteps(body);
    return storedRobotTypeView(await this.deps.guard.run(() => this.deps.repository.register(body)));
  }

  /**
   * Steps of custom kinds against the catalog (built-in kinds were checked with the body): a kind
   * no module declared, params its schema refuses, or a secret reference outside its secret params
   * is a 400 naming the field, and nothing is stored.
   */
  private async checkCustomSteps(body: RobotTypeRegistration): Promise<void> {
    const kinds = [...new Set(body.steps.map((step) => step.kind).filter((kind) => !isBuiltInKind(kind)))];
    if (kinds.length === 0) return;
    const declared = await this.deps.guard.run(() => this.deps.stepKinds.declared(kinds));
    const current = new Map<string, StepDeclaration>();
    for (const kind of kinds) {
      const declaration = currentDeclaration(declared.filter((candidate) => candidate.kind === kind));
      if (declaration) current.set(kind, declaration);
    }
    const errors = customStepProblems(body.steps, current);
    const [first] = errors;
    if (first) throw new ValidationError(`${first.field}: ${first.message}`, { errors });
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
