package net.aitbc.grid.coordinator.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.ledger.CanonicalJson;
import org.junit.jupiter.api.Test;

class ConsensusTest {
  private static final Comparison VECTORS = Comparison.forType("embedding", null);
  private final double[] honest = Embeddings.vector(7);

  private static Consensus.Entry entry(String worker, String resultOrNull) {
    return new Consensus.Entry(worker, UUID.randomUUID(), resultOrNull == null ? null : CanonicalJson.parse(resultOrNull));
  }

  private List<Consensus.Entry> twoHonestOneWrong() {
    return List.of(entry("w1", Embeddings.result(honest)),
        entry("w2", Embeddings.result(Embeddings.noisy(honest, 0.2, 1))),
        entry("w3", Embeddings.result(Embeddings.noisy(honest, 1e-3, 2))));
  }

  @Test
  void twoOfThreeReachSixtyPercentAndNameTheDissenter() {
    Consensus.Decision d = Consensus.decide(twoHonestOneWrong(), 0.6, VECTORS);
    assertThat(d.reached()).isTrue();
    assertThat(d.agreeing()).containsExactly("w1", "w3");
    assertThat(d.dissenting()).containsExactly("w2");
    assertThat(d.missing()).isEmpty();
    assertThat(d.groups()).hasSize(2);
    assertThat(d.groups().get(d.chosen()).share()).isEqualTo(2.0 / 3);
    assertThat(d.groups().get(d.chosen()).minSimilarity()).isGreaterThan(0.999);
    assertThat(d.chosenSha256()).isEqualTo(CanonicalJson.sha256Hex(CanonicalJson.parse(Embeddings.result(honest))));
    assertThat(d.explanation()).isEqualTo("2 of 3 results agree (share 0.667 >= threshold 0.600)");
    assertThat(d.votes()).extracting(Consensus.Vote::agrees).containsExactly(true, true, false);
  }

  @Test
  void twoOfThreeFallShortOfEightyPercentButStayVisible() {
    Consensus.Decision d = Consensus.decide(twoHonestOneWrong(), 0.8, VECTORS);
    assertThat(d.reached()).isFalse();
    assertThat(d.agreeing()).containsExactly("w1", "w3");
    assertThat(d.dissenting()).containsExactly("w2");
    assertThat(d.explanation()).startsWith("no consensus: the largest agreeing group holds 2 of 3 results")
        .contains("< threshold 0.800");
  }

  @Test
  void aShareEqualToTheThresholdReachesIt() {
    List<Consensus.Entry> five = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      five.add(entry("h" + i, "{\"ok\":true}"));
    }
    five.add(entry("x1", "{\"ok\":false}"));
    five.add(entry("x2", null));
    Consensus.Decision d = Consensus.decide(five, 0.6, Comparison.forType("noop", null));
    assertThat(d.reached()).isTrue();
    assertThat(d.missing()).containsExactly("x2");
    assertThat(d.explanation()).endsWith("; 1 without a result (x2)");
  }

  @Test
  void missingResultsCountAgainstTheShare() {
    Consensus.Decision d = Consensus.decide(List.of(entry("w1", "{\"a\":1}"), entry("w2", null), entry("w3", null)),
        0.5, Comparison.forType("noop", null));
    assertThat(d.reached()).isFalse();
    assertThat(d.total()).isEqualTo(3);
  }

  @Test
  void aTieDecidesNothing() {
    Consensus.Decision d = Consensus.decide(List.of(entry("w1", "{\"a\":1}"), entry("w2", "{\"a\":2}")), 0.5,
        Comparison.forType("noop", null));
    assertThat(d.reached()).isFalse();
    assertThat(d.chosen()).isEqualTo(-1);
    assertThat(d.chosenJobId()).isNull();
    assertThat(d.agreeing()).isEmpty();
    assertThat(d.explanation()).contains("tie");
  }

  @Test
  void noResultsAtAll() {
    Consensus.Decision d = Consensus.decide(List.of(entry("w1", null)), 0.5, VECTORS);
    assertThat(d.reached()).isFalse();
    assertThat(d.groups()).isEmpty();
    assertThat(d.explanation()).contains("none of the 1 members returned a result");
  }

  @Test
  void theStoredFormReadsBack() {
    Consensus.Decision d = Consensus.decide(twoHonestOneWrong(), 0.6, VECTORS);
    Consensus.Decision back = Consensus.fromJson(Consensus.toJson(d));
    assertThat(back).usingRecursiveComparison().ignoringFields("votes").isEqualTo(d);
    assertThat(back.votes()).isEmpty();
  }
}
