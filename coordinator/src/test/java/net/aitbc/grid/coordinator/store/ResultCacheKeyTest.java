package net.aitbc.grid.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which jobs the result cache keys, and when two jobs are the same work. */
class ResultCacheKeyTest {
  private static byte[] key(String type, String model, String payload) {
    return ResultCache.key(type, model, payload);
  }

  @Test
  void keyOrderAndSpacingDoNotMatterButContentDoes() {
    byte[] a = key("noop", null, "{\"type\":\"noop\",\"echo\":\"a\",\"n\":[1,{\"y\":2,\"x\":1}]}");
    assertThat(a).hasSize(32);
    assertThat(key("noop", null, "{ \"n\": [1, {\"x\": 1, \"y\": 2}], \"echo\": \"a\", \"type\": \"noop\" }"))
        .isEqualTo(a);
    assertThat(key("noop", null, "{\"type\":\"noop\",\"echo\":\"b\",\"n\":[1,{\"y\":2,\"x\":1}]}")).isNotEqualTo(a);
    assertThat(key("noop", null, "{\"type\":\"noop\",\"echo\":\"a\",\"n\":[{\"y\":2,\"x\":1},1]}")).isNotEqualTo(a);
  }

  @Test
  void theModelIsKeyedAsReadAndTheCacheFlagIsNot() {
    byte[] mini = key("embedding", "mini", "{\"type\":\"embedding\",\"model\":\"MINI\",\"input\":\"x\"}");
    assertThat(key("embedding", "mini", "{\"type\":\"embedding\",\"model\":\"mini\",\"input\":\"x\",\"cache\":true}"))
        .isEqualTo(mini);
    assertThat(key("embedding", "other", "{\"type\":\"embedding\",\"model\":\"other\",\"input\":\"x\"}"))
        .isNotEqualTo(mini);
  }

  @Test
  void onlyDeterministicWorkThatDidNotOptOutIsKeyed() {
    assertThat(key("inference", "m", "{\"type\":\"inference\",\"model\":\"m\",\"prompt\":\"hi\"}")).isNull();
    assertThat(key("embedding", null, "{\"type\":\"embedding\",\"input\":\"x\"}")).isNull();
    assertThat(key("noop", null, "{\"type\":\"noop\",\"cache\":false}")).isNull();
    assertThat(key("noop", null, "{\"type\":\"noop\",\"cache\":\"false\"}")).isNotNull();
  }

  @Test
  void aPolicyIsCheckedAndZeroTurnsTheCacheOff() {
    assertThat(new ResultCache.Policy(Duration.ZERO, 1000).on()).isFalse();
    assertThat(new ResultCache.Policy(Duration.ofHours(1), 1000).on()).isTrue();
    assertThatThrownBy(() -> new ResultCache.Policy(Duration.ofSeconds(-1), 1000))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ResultCache.Policy(Duration.ofHours(1), -1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
