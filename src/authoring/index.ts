/** Typed authoring: defineWorkflow, toEditOps, defineWorkflowSpec (issue 12). */
export { defineWorkflow, TRIGGER_ID, WorkflowBuilder } from './define-workflow';
export type { ConditionParams, StepOptions } from './define-workflow';
export type { AuthorParams, OutputsOf, Ref, Refs } from './refs';
export { toEditOps } from './to-edit-ops';
export type { WireEditOp } from './to-edit-ops';
export { defineWorkflowSpec, SpecRunRefused, startSpecRun } from './workflow-spec';
export type { SpecFetcher, StartedRun, WorkflowSpec } from './workflow-spec';
