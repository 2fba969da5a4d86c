package io.prefstream.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

  @TempDir Path dir;

  @Test
  void hhDialoguesSplitAtTheLastSharedAssistantTurn() throws Exception {
    var json = new ObjectMapper();
    String context = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Best pizza?";
    String forked = "\n\nHuman: Hi\n\nAssistant: Hey.\n\nHuman: Best pizza?";
    Path file = dir.resolve("hh.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      for (String[] r :
          new String[][] {
            {context + "\n\nAssistant: Margherita.", context + "\n\nAssistant: Any."},
            {context + "\n\nAssistant: Same.", context + "\n\nAssistant: Same."},
            {context + "\n\nAssistant: Neapolitan.", forked + "\n\nAssistant: Pineapple."},
          }) {
        out.write(
            (json.createObjectNode().put("chosen", r[0]).put("rejected", r[1]) + "\n")
                .getBytes(StandardCharsets.UTF_8));
      }
    }
    Datasets.Loaded loaded = Datasets.read(file);
    assertThat(loaded.skipped()).isEqualTo(1); // identical replies carry no preference
    assertThat(loaded.pairs()).hasSize(2);
    TrainingPair first = loaded.pairs().get(0);
    assertThat(first.prompt()).isEqualTo(context.strip() + "\n\nAssistant:");
    assertThat(first.chosen()).isEqualTo("Margherita.");
    assertThat(first.rejected()).isEqualTo("Any.");
    // Forked at an earlier turn: the prompt is only what both share.
    TrainingPair second = loaded.pairs().get(1);
    assertThat(second.prompt()).isEqualTo("Human: Hi\n\nAssistant:");
    assertThat(second.chosen()).startsWith("Hello!").endsWith("Neapolitan.");
    assertThat(second.rejected()).startsWith("Hey.").endsWith("Pineapple.");
  }

  @Test
  void plainPairsAndMajorityLabelledArraysAreRead() throws Exception {
    Path plain = dir.resolve("pairs.jsonl");
    Files.writeString(plain, "{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n\n");
    assertThat(Datasets.read(plain).pairs())
        .containsExactly(TrainingPair.unweighted("p", "a", "b"));
    Path panda = dir.resolve("panda.json");
    Files.writeString(
        panda,
        "[{\"instruction\":\"Fix\",\"input\":\"teh\",\"response1\":\"the\",\"response2\":\"teh\","
            + "\"annotator1\":1,\"annotator2\":1,\"annotator3\":2},"
            + "{\"instruction\":\"Fix\",\"input\":\"\",\"response1\":\"x\",\"response2\":\"y\","
            + "\"annotator1\":0,\"annotator2\":0,\"annotator3\":2},"
            + "{\"instruction\":\"Say\",\"input\":\"\",\"response1\":\"x\",\"response2\":\"y\","
            + "\"annotator1\":2,\"annotator2\":1,\"annotator3\":0}]");
    Datasets.Loaded loaded = Datasets.read(panda);
    assertThat(loaded.pairs()).containsExactly(TrainingPair.unweighted("Fix\n\nteh", "the", "teh"));
    assertThat(loaded.skipped()).isEqualTo(2);
  }

  @Test
  void illFormedUtf8IsReportedNotReplaced() throws Exception {
    Path bad = dir.resolve("overlong.jsonl");
    byte[] line =
        "{\"prompt\":\"p\",\"chosen\":\"a/\",\"rejected\":\"b\"}\n"
            .getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(line);
    for (byte b : line) {
      if (b == '/') {
        out.write(0xC0); // the overlong '/' a lenient decoder would turn into '/' or U+FFFD
        out.write(0xAF);
      } else {
        out.write(b);
      }
    }
    Files.write(bad, out.toByteArray());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Datasets.read(bad))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("overlong.jsonl")
        .hasMessageContaining("not well-formed UTF-8");
  }

  @Test
  void aLineThatIsNotJsonIsReportedWithItsFileAndLine() throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\nnot json\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Datasets.read(bad))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("bad.jsonl line 2: not JSON");
  }

  @Test
  void theEvalSplitIsStableAndNearItsShare() {
    int in = 0;
    for (int i = 0; i < 5000; i++) {
      TrainingPair p = TrainingPair.unweighted("p", "reply " + i, "other");
      assertThat(Datasets.inEvalSplit(p, 0.2)).isEqualTo(Datasets.inEvalSplit(p, 0.2));
      in += Datasets.inEvalSplit(p, 0.2) ? 1 : 0;
    }
    assertThat(in).isBetween(900, 1100);
  }
}
