package net.aitbc.grid.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** GPU names match by model, exactly: vendor, family, memory and form factor do not count. */
class RequirementsTest {
  @Test
  void gpuNamesAsDriversReportThemAndAsClientsWriteThemMeetOnOneKey() {
    assertThat(Requirements.gpuKey("NVIDIA GeForce RTX 4090")).isEqualTo("rtx4090");
    assertThat(Requirements.gpuKey("RTX 4090")).isEqualTo("rtx4090");
    assertThat(Requirements.gpuKey("rtx4090")).isEqualTo("rtx4090");
    assertThat(Requirements.gpuKey("NVIDIA H100 80GB HBM3")).isEqualTo("h100");
    assertThat(Requirements.gpuKey("NVIDIA H100 PCIe")).isEqualTo("h100");
    assertThat(Requirements.gpuKey("NVIDIA A100-SXM4-80GB")).isEqualTo("a100");
    assertThat(Requirements.gpuKey("Tesla V100-SXM2-16GB")).isEqualTo("v100");
    assertThat(Requirements.gpuKey("NVIDIA RTX A1000")).isEqualTo("rtxa1000");
    assertThat(Requirements.gpuKey("NVIDIA GeForce RTX 3090 Ti")).isEqualTo("rtx3090ti");
    assertThat(Requirements.gpuKey("AMD Instinct MI300X")).isEqualTo("mi300x");
  }

  @Test
  void aModelNeverMatchesAnotherThatContainsItsName() {
    Offer a1000 = offer("NVIDIA RTX A1000");
    Offer ti = offer("NVIDIA GeForce RTX 3090 Ti");
    assertThat(requires("A100").satisfiedBy(a1000)).isFalse();
    assertThat(requires("RTX 3090").satisfiedBy(ti)).isFalse();
    assertThat(requires("A100").satisfiedBy(offer("NVIDIA A100 80GB PCIe"))).isTrue();
    assertThat(requires("RTX 3090 Ti").satisfiedBy(ti)).isTrue();
  }

  @Test
  void aGpuConstraintThatNamesNoModelIsRefused() {
    assertThatThrownBy(() -> requires("NVIDIA 80GB")).hasMessageContaining("names no GPU model");
  }

  private static Requirements requires(String gpu) {
    return Requirements.of(gpu, "", 0, List.of(), "", 0);
  }

  private static Offer offer(String gpu) {
    return Offer.of(List.of("inference"), List.of(), List.of(gpu), 24_000, "", 0, "");
  }
}
