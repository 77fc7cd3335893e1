package net.aitbc.grid.worker.backend;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * all-MiniLM-L6-v2 run on several texts in one padded ONNX forward pass ([B, L] ids, mask and
 * token types), then mean pooling over the mask and L2 normalisation: the same vectors as
 * langchain4j's per-text {@code embed}, which runs one pass per text. Thread-safe (ONNX Runtime
 * sessions and the tokenizer are).
 */
final class MiniLmBatchEncoder implements AutoCloseable {

  /** Positions of one pass, [CLS] and [SEP] included; langchain4j splits longer texts. */
  static final int MAX_TOKENS = 512;

  /** The vectors of one call and the tokens of each text ([CLS] and [SEP] not counted). */
  record Encoded(List<float[]> vectors, int[] tokens) {}

  /** Embeds one text too long for a single pass (langchain4j splits it and averages the parts). */
  @FunctionalInterface
  interface LongText {
    /** The text's unit vector and its token count. */
    Encoded embed(String text);
  }

  private final OrtEnvironment environment;
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;
  private final boolean wantsTokenTypes;

  /** Loads the model and tokenizer from the langchain4j jar, as its own model class does. */
  MiniLmBatchEncoder() {
    ClassLoader loader = AllMiniLmL6V2EmbeddingModel.class.getClassLoader();
    try (InputStream model = loader.getResourceAsStream("all-minilm-l6-v2.onnx");
        InputStream vocabulary = loader.getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      if (model == null || vocabulary == null) {
        throw new IllegalStateException("all-MiniLM-L6-v2 is missing from the classpath");
      }
      this.environment = OrtEnvironment.getEnvironment();
      this.session = environment.createSession(model.readAllBytes(), new OrtSession.SessionOptions());
      // No padding here: the batch pads to its own longest text below.
      this.tokenizer = HuggingFaceTokenizer.newInstance(vocabulary, Map.of("padding", "false"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot load all-MiniLM-L6-v2: " + e.getMessage(), e);
    }
    this.wantsTokenTypes = session.getInputNames().contains("token_type_ids");
  }

  /**
   * One forward pass over every text of at most {@link #MAX_TOKENS} tokens; longer ones go to
   * {@code longText} one by one.
   */
  Encoded encode(List<String> texts, LongText longText) throws OrtException {
    List<Encoding> encodings = new ArrayList<>(texts.size());
    List<Integer> positions = new ArrayList<>(texts.size());
    float[][] vectors = new float[texts.size()][];
    int[] tokens = new int[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      Encoding encoding = tokenizer.encode(texts.get(i), true, false);
      if (encoding.getIds().length > MAX_TOKENS) {
        Encoded alone = longText.embed(texts.get(i));
        vectors[i] = alone.vectors().getFirst();
        tokens[i] = alone.tokens()[0];
      } else {
        encodings.add(encoding);
        positions.add(i);
      }
    }
    if (!encodings.isEmpty()) {
      Encoded pass = encode(encodings);
      for (int k = 0; k < positions.size(); k++) {
        vectors[positions.get(k)] = pass.vectors().get(k);
        tokens[positions.get(k)] = pass.tokens()[k];
      }
    }
    return new Encoded(List.of(vectors), tokens);
  }

  private Encoded encode(List<Encoding> encodings) throws OrtException {
    int batch = encodings.size();
    int length = 0;
    for (Encoding encoding : encodings) {
      length = Math.max(length, encoding.getIds().length);
    }
    long[] ids = new long[batch * length];
    long[] mask = new long[batch * length];
    long[] types = new long[batch * length];
    int[] tokens = new int[batch];
    for (int b = 0; b < batch; b++) {
      Encoding encoding = encodings.get(b);
      long[] own = encoding.getIds();
      System.arraycopy(own, 0, ids, b * length, own.length);
      System.arraycopy(encoding.getAttentionMask(), 0, mask, b * length, own.length);
      System.arraycopy(encoding.getTypeIds(), 0, types, b * length, own.length);
      // As langchain4j counts them: [CLS] and [SEP] left out.
      tokens[b] = own.length - 2;
    }
    long[] shape = {batch, length};
    try (OnnxTensor idTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), shape);
        OnnxTensor maskTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape);
        OnnxTensor typeTensor =
            OnnxTensor.createTensor(environment, LongBuffer.wrap(types), shape)) {
      Map<String, OnnxTensor> inputs = new HashMap<>();
      inputs.put("input_ids", idTensor);
      inputs.put("attention_mask", maskTensor);
      if (wantsTokenTypes) {
        inputs.put("token_type_ids", typeTensor);
      }
      try (OrtSession.Result result = session.run(inputs)) {
        // last_hidden_state, [B, L, H] row-major.
        OnnxTensor hidden = (OnnxTensor) result.get(0);
        long[] dims = hidden.getInfo().getShape();
        int width = (int) dims[2];
        FloatBuffer values = hidden.getFloatBuffer();
        List<float[]> vectors = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
          vectors.add(pool(values, mask, b, length, width));
        }
        return new Encoded(vectors, tokens);
      }
    }
  }

  /** Mean over the unmasked positions of row {@code b}, then scaled to unit length. */
  private static float[] pool(FloatBuffer values, long[] mask, int b, int length, int width) {
    float[] sum = new float[width];
    int count = 0;
    for (int t = 0; t < length; t++) {
      if (mask[b * length + t] == 0) {
        continue;
      }
      count++;
      int base = (b * length + t) * width;
      for (int j = 0; j < width; j++) {
        sum[j] += values.get(base + j);
      }
    }
    float squares = 0;
    for (int j = 0; j < width; j++) {
      sum[j] /= count;
      squares += sum[j] * sum[j];
    }
    float norm = (float) Math.sqrt(squares);
    for (int j = 0; j < width; j++) {
      sum[j] /= norm;
    }
    return sum;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      // Closing at shutdown: nothing left to do with the failure.
    }
    tokenizer.close();
  }
}
