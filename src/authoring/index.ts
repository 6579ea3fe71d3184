/** Typed authoring: defineWorkflow, toEditOps, defineWorkflowSpec (issue 12). */
export {};
