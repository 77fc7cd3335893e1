package net.aitbc.grid.worker.backend;

/** Receives a job's output as it is produced (streamed tokens); must not block for long. */
@FunctionalInterface
public interface ProgressSink {

  /** A sink that drops everything, for runs nobody watches. */
  ProgressSink NONE = chunk -> {};

  /** Output produced since the previous call. */
  void output(String chunk);
}
