package net.aitbc.grid.coordinator.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import net.aitbc.grid.ledger.CanonicalJson;
import org.junit.jupiter.api.Test;

class PartsTest {
  private static JsonNode json(String text) {
    return CanonicalJson.parse(text.replace('\'', '"'));
  }

  @Test
  void splitsIntoContiguousPartsTheEarlierOnesLonger() {
    assertThat(Parts.split(7, 3)).containsExactly(new Parts.Range(0, 3), new Parts.Range(3, 5), new Parts.Range(5, 7));
    assertThat(Parts.split(3, 3)).containsExactly(new Parts.Range(0, 1), new Parts.Range(1, 2), new Parts.Range(2, 3));
    assertThatThrownBy(() -> Parts.split(2, 3)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void findsTheListAndPutsEachPartInItsPlace() {
    ObjectNode payload = (ObjectNode) json("{'type':'embedding','input':['a','b','c'],'model':'m'}");
    assertThat(Parts.listField(payload)).isEqualTo("input");
    assertThat(Parts.listField(json("{'input':'one','items':[1]}"))).isEqualTo("items");
    assertThat(Parts.listField(json("{'prompt':'x'}"))).isNull();
    assertThat(Parts.part(payload, "input", new Parts.Range(1, 3)))
        .isEqualTo(json("{'type':'embedding','input':['b','c'],'model':'m'}"));
  }

  @Test
  void joinsArraysInOrderAndKeepsWhatAllAgreeOn() {
    JsonNode joined = Parts.join(List.of(
        json("{'embeddings':[[1],[2]],'dimensions':1,'model':'m','worker_id':'w1'}"),
        json("{'embeddings':[[3]],'dimensions':1,'model':'m','worker_id':'w2'}")));
    assertThat(joined).isEqualTo(json("{'embeddings':[[1],[2],[3]],'dimensions':1,'model':'m'}"));
  }
}
