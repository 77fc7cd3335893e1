package net.aitbc.grid.coordinator.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.ledger.CanonicalJson;
import org.junit.jupiter.api.Test;

class ComparisonTest {
  private static JsonNode json(String text) {
    return CanonicalJson.parse(text.replace('\'', '"'));
  }

  @Test
  void deterministicTypesAgreeOnlyOnEqualCanonicalJsonWhoeverRanThem() {
    Comparison rule = Comparison.forType("noop", null);
    assertThat(rule).isInstanceOf(Comparison.Hashes.class);
    assertThat(rule.agree(json("{'ok':true,'echo':'x','worker_id':'w1'}"), json("{'echo':'x','ok':true,'worker_id':'w2'}")))
        .isTrue();
    assertThat(rule.agree(json("{'ok':true,'echo':'x'}"), json("{'ok':true,'echo':'y'}"))).isFalse();
    // A similarity given does not loosen equality.
    assertThat(Comparison.forType("resize", 0.5).agree(json("{'a':1}"), json("{'a':2}"))).isFalse();
  }

  @Test
  void embeddingsAgreeWithinFloatRoundingAndNotWhenPerturbed() {
    Comparison rule = Comparison.forType("embedding", null);
    double[] honest = Embeddings.vector(1);
    double[] otherMachine = Embeddings.noisy(honest, 1e-3, 2);
    double[] wrong = Embeddings.noisy(honest, 0.2, 3);
    assertThat(Embeddings.cosine(honest, otherMachine)).isGreaterThan(0.9999);
    assertThat(Embeddings.cosine(honest, wrong)).isBetween(0.95, 0.999);
    assertThat(rule.agree(json(Embeddings.result(honest)), json(Embeddings.result(otherMachine)))).isTrue();
    assertThat(rule.agree(json(Embeddings.result(honest)), json(Embeddings.result(wrong)))).isFalse();
    assertThat(rule.similarity(json(Embeddings.result(honest)), json(Embeddings.result(wrong))))
        .isCloseTo(Embeddings.cosine(honest, wrong), within(1e-6));
  }

  @Test
  void embeddingBatchesCompareVectorByVectorAndCountsMustMatch() {
    Comparison rule = Comparison.forType("embedding", null);
    double[] a = Embeddings.vector(1);
    double[] b = Embeddings.vector(2);
    assertThat(rule.agree(json(Embeddings.batch(a, b)), json(Embeddings.batch(a, Embeddings.noisy(b, 1e-3, 9)))))
        .isTrue();
    assertThat(rule.agree(json(Embeddings.batch(a, b)), json(Embeddings.batch(a, a)))).isFalse();
    assertThat(rule.similarity(json(Embeddings.batch(a, b)), json(Embeddings.batch(a)))).isZero();
    assertThat(rule.similarity(json("{'embedding':[1,0]}"), json("{'embedding':[1,0,0]}"))).isZero();
    // No vectors on either side: compared by hash.
    assertThat(rule.agree(json("{'error':'x'}"), json("{'error':'x'}"))).isTrue();
    assertThat(rule.agree(json("{'embedding':[1,0]}"), json("{'error':'x'}"))).isFalse();
  }

  @Test
  void aLooserSimilarityAcceptsMore() {
    double[] honest = Embeddings.vector(1);
    double[] wrong = Embeddings.noisy(honest, 0.2, 3);
    assertThat(Comparison.forType("embedding", 0.9).agree(json(Embeddings.result(honest)),
        json(Embeddings.result(wrong)))).isTrue();
  }

  @Test
  void generatedTextsAgreeDespiteAFewDifferentWords() {
    Comparison rule = Comparison.forType("inference", null);
    String a = "The first five prime numbers are 2, 3, 5, 7 and 11. Each has exactly two divisors: one and itself.";
    String sameButCase = "the first five prime numbers are 2 3 5 7 and 11 each has exactly two divisors one and itself";
    String aFewWords = "The first five prime numbers are 2, 3, 5, 7 and 11. Each one has exactly two divisors: 1 and itself.";
    String other = "Paris is the capital of France and sits on the river Seine.";
    assertThat(rule.similarity(json("{'output':'" + a + "'}"), json("{'output':'" + sameButCase + "'}"))).isEqualTo(1);
    assertThat(rule.agree(json("{'output':'" + a + "'}"), json("{'output':'" + aFewWords + "'}"))).isTrue();
    assertThat(rule.similarity(json("{'output':'" + a + "'}"), json("{'output':'" + other + "'}"))).isLessThan(0.1);
    // Other text fields are read too; one word texts compare as words.
    assertThat(rule.agree(json("{'text':'yes'}"), json("{'response':'Yes!'}"))).isTrue();
  }

  @Test
  void bigramsAreOrderSensitiveLocally() {
    assertThat(Comparison.Texts.jaccard(Comparison.Texts.shingles("a b c d"), Comparison.Texts.shingles("d c b a")))
        .isZero();
    assertThat(Comparison.Texts.shingles("")).isEmpty();
    assertThat(Comparison.Texts.jaccard(Comparison.Texts.shingles(""), Comparison.Texts.shingles(" ! "))).isEqualTo(1);
  }
}
