package net.aitbc.grid.worker.backend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NoopBackendTest {
  @Test
  void itAnswersWhoRanItAndEchoesWhatItWasGiven() throws Exception {
    NoopBackend noop = new NoopBackend("w-1");
    JobOutcome plain = noop.run(Jobs.run("noop", null, "{}", ProgressSink.NONE));
    assertThat(plain.result().toString()).isEqualTo("{\"ok\":true,\"worker_id\":\"w-1\"}");
    JobOutcome echoed = noop.run(Jobs.run("noop", null, "{\"echo\":{\"n\":[1,\"two\"]}}", ProgressSink.NONE));
    assertThat(echoed.result().toString()).isEqualTo("{\"ok\":true,\"worker_id\":\"w-1\",\"echo\":{\"n\":[1,\"two\"]}}");
  }
}
