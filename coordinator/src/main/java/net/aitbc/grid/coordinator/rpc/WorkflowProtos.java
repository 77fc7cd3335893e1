package net.aitbc.grid.coordinator.rpc;

import com.google.protobuf.Duration;
import java.math.BigDecimal;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.StepSnapshot;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.StepState;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.Workflow;
import org.jspecify.annotations.Nullable;

/** Workflows and executions as messages, and the enums between the database and the protocol. */
final class WorkflowProtos {
  private WorkflowProtos() {}

  static Workflow workflow(StoredWorkflow w) {
    return Workflow.newBuilder()
        .setWorkflowId(JobIds.format(w.workflowId()))
        .setClientId(w.clientId())
        .setName(w.name())
        .setDescription(w.description())
        .setDefinitionJson(w.definition())
        .setVerificationLevel(level(w.verificationLevel()))
        .setMaxExecutionTime(Duration.newBuilder().setSeconds(w.maxExecutionSeconds()))
        .setMaxCostBudget(decimal(w.maxCostBudget()))
        .addAllTags(w.tags())
        .setIsPublic(w.isPublic())
        .setVersion(w.version())
        .setStepCount(w.stepCount())
        .setCreateTime(JobProtos.timestamp(w.createdAt()))
        .setUpdateTime(JobProtos.timestamp(w.updatedAt()))
        .build();
  }

  static Execution execution(StoredExecution e) {
    Execution.Builder b = Execution.newBuilder()
        .setExecutionId(JobIds.format(e.executionId()))
        .setWorkflowId(JobIds.format(e.workflowId()))
        .setClientId(e.clientId())
        .setStatus(status(e.status()))
        .setProgress(e.progress())
        .setCurrentStep(e.currentStep())
        .setTotalSteps(e.totalSteps())
        .setTotalCost(decimal(e.totalCost()))
        .setInputsJson(e.inputsJson())
        .setPriority(e.priority())
        .setVerificationLevel(level(e.verificationLevel()))
        .setMaxCostBudget(decimal(e.maxCostBudget()))
        .setCreateTime(JobProtos.timestamp(e.createdAt()))
        .setDeadline(JobProtos.timestamp(e.deadline()));
    if (e.currentStepName() != null) {
      b.setCurrentStepName(e.currentStepName());
    }
    if (e.finalResultJson() != null) {
      b.setFinalResultJson(e.finalResultJson());
    }
    if (e.errorMessage() != null) {
      b.setErrorMessage(e.errorMessage());
    }
    if (e.startedAt() != null) {
      b.setStartTime(JobProtos.timestamp(e.startedAt()));
    }
    if (e.endedAt() != null) {
      b.setEndTime(JobProtos.timestamp(e.endedAt()));
    }
    if (e.receiptId() != null) {
      b.setReceiptId(JobIds.format(e.receiptId()));
    }
    for (StepSnapshot s : e.steps()) {
      b.addSteps(step(s));
    }
    return b.build();
  }

  private static StepState step(StepSnapshot s) {
    StepState.Builder b = StepState.newBuilder()
        .setName(s.name())
        .setStatus(switch (s.status()) {
          case WAITING -> StepStatus.STEP_STATUS_WAITING;
          case RUNNING -> StepStatus.STEP_STATUS_RUNNING;
          case COMPLETED -> StepStatus.STEP_STATUS_COMPLETED;
          case FAILED -> StepStatus.STEP_STATUS_FAILED;
          case CANCELLED -> StepStatus.STEP_STATUS_CANCELLED;
        })
        .setItems(Math.max(s.items(), 0))
        .setItemsCompleted(s.itemsCompleted())
        .setCost(decimal(s.cost()))
        .addAllDependsOn(s.dependsOn());
    s.jobIds().forEach(id -> b.addJobIds(JobIds.format(id)));
    if (s.error() != null) {
      b.setError(s.error());
    }
    if (s.startTime() != null) {
      b.setStartTime(JobProtos.timestamp(s.startTime()));
    }
    if (s.endTime() != null) {
      b.setEndTime(JobProtos.timestamp(s.endTime()));
    }
    return b.build();
  }

  /** A decimal as text, never empty: "0" for zero, no trailing zeros, no exponent. */
  static String decimal(BigDecimal d) {
    return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
  }

  static ExecutionStatus status(net.aitbc.grid.db.enums.ExecutionStatus s) {
    return switch (s) {
      case pending -> ExecutionStatus.EXECUTION_STATUS_PENDING;
      case running -> ExecutionStatus.EXECUTION_STATUS_RUNNING;
      case completed -> ExecutionStatus.EXECUTION_STATUS_COMPLETED;
      case failed -> ExecutionStatus.EXECUTION_STATUS_FAILED;
      case cancelled -> ExecutionStatus.EXECUTION_STATUS_CANCELLED;
    };
  }

  /** A status filter; null for UNSPECIFIED (no filter). */
  static net.aitbc.grid.db.enums.@Nullable ExecutionStatus status(ExecutionStatus s, String field) {
    return switch (s) {
      case EXECUTION_STATUS_UNSPECIFIED -> null;
      case EXECUTION_STATUS_PENDING -> net.aitbc.grid.db.enums.ExecutionStatus.pending;
      case EXECUTION_STATUS_RUNNING -> net.aitbc.grid.db.enums.ExecutionStatus.running;
      case EXECUTION_STATUS_COMPLETED -> net.aitbc.grid.db.enums.ExecutionStatus.completed;
      case EXECUTION_STATUS_FAILED -> net.aitbc.grid.db.enums.ExecutionStatus.failed;
      case EXECUTION_STATUS_CANCELLED -> net.aitbc.grid.db.enums.ExecutionStatus.cancelled;
      case UNRECOGNIZED -> throw GrpcErrors.invalid(field + " is not an execution status");
    };
  }

  static VerificationLevel level(net.aitbc.grid.db.enums.VerificationLevel l) {
    return switch (l) {
      case basic -> VerificationLevel.VERIFICATION_LEVEL_BASIC;
      case full -> VerificationLevel.VERIFICATION_LEVEL_FULL;
      case zero_knowledge -> VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE;
    };
  }

  /** A verification level; null for UNSPECIFIED (the default applies). */
  static net.aitbc.grid.db.enums.@Nullable VerificationLevel level(VerificationLevel l, String field) {
    return switch (l) {
      case VERIFICATION_LEVEL_UNSPECIFIED -> null;
      case VERIFICATION_LEVEL_BASIC -> net.aitbc.grid.db.enums.VerificationLevel.basic;
      case VERIFICATION_LEVEL_FULL -> net.aitbc.grid.db.enums.VerificationLevel.full;
      case VERIFICATION_LEVEL_ZERO_KNOWLEDGE -> net.aitbc.grid.db.enums.VerificationLevel.zero_knowledge;
      case UNRECOGNIZED -> throw GrpcErrors.invalid(field + " is not a verification level");
    };
  }
}
