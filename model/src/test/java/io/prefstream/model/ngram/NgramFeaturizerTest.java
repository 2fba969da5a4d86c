package io.prefstream.model.ngram;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.model.ModelSpec;
import org.junit.jupiter.api.Test;

class NgramFeaturizerTest {

  private static final String PROMPT = "How do I reverse a list in Python?";
  private static final String RESPONSE =
      "Great question!\n\n- use `reversed(xs)`\n- or `xs[::-1]`\n\n```python\nxs.reverse()\n```\n"
          + "See https://docs.python.org for more. Does that help?";

  @Test
  void sameTextsGiveTheSameFeaturesOnEveryInstance() {
    var a = NgramFeaturizer.of(ModelSpec.defaults()).featurize(PROMPT, RESPONSE);
    var b = NgramFeaturizer.of(ModelSpec.defaults()).featurize(PROMPT, RESPONSE);
    assertThat(a.prompt().ids()).containsExactly(b.prompt().ids());
    assertThat(a.response().ids()).containsExactly(b.response().ids());
    assertThat(a.response().values()).containsExactly(b.response().values());
    assertThat(a.structure()).containsExactly(b.structure());
  }

  @Test
  void bucketsAreInRangeDistinctAndWeightsUnitLength() {
    var f = new NgramFeaturizer(1024, 384, 3).featurize(PROMPT, RESPONSE);
    assertThat(java.util.Arrays.stream(f.response().ids()).boxed().toList())
        .allSatisfy(id -> assertThat(id).isBetween(1, 1023));
    assertThat(f.response().ids()).doesNotHaveDuplicates();
    double norm = 0;
    for (float v : f.response().values()) {
      norm += v * v;
    }
    assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void longTextsKeepAStableSampleOfAtMostMaxFeatures() {
    String longText =
        "word ".repeat(10) + String.join(" ", java.util.Collections.nCopies(50, RESPONSE));
    var featurizer = new NgramFeaturizer(1 << 20, 16, 3);
    var f = featurizer.featurize(PROMPT, longText + " tail words differ");
    assertThat(f.response().size()).isEqualTo(16);
    assertThat(featurizer.featurize(PROMPT, longText + " tail words differ").response().ids())
        .containsExactly(f.response().ids());
  }

  @Test
  void theSampleIsTheBucketsOfSmallestRank() {
    String longText = String.join(" ", java.util.Collections.nCopies(20, RESPONSE)) + " extra";
    var all = new NgramFeaturizer(1 << 20, 100_000, 3).featurize(PROMPT, longText).response();
    var sampled = new NgramFeaturizer(1 << 20, 40, 3).featurize(PROMPT, longText).response();
    java.util.List<Integer> byRank =
        java.util.Arrays.stream(all.ids())
            .boxed()
            .sorted(java.util.Comparator.comparingLong(id -> NgramFeaturizer.mix(id) >>> 32))
            .toList();
    assertThat(java.util.Arrays.stream(sampled.ids()).boxed().toList())
        .containsExactlyInAnyOrderElementsOf(byRank.subList(0, 40));
  }

  @Test
  void structureSeesListsCodeQuestionsAndLinks() {
    var f = NgramFeaturizer.of(ModelSpec.defaults()).featurize(PROMPT, RESPONSE).structure();
    assertThat(f).hasSize(StructureFeatures.SIZE);
    assertThat(f[StructureFeatures.NAMES.indexOf("has_list")]).isEqualTo(1f);
    assertThat(f[StructureFeatures.NAMES.indexOf("has_code")]).isEqualTo(1f);
    assertThat(f[StructureFeatures.NAMES.indexOf("log_questions")]).isGreaterThan(0f);
    assertThat(f[StructureFeatures.NAMES.indexOf("log_links")]).isGreaterThan(0f);
    var plain =
        NgramFeaturizer.of(ModelSpec.defaults()).featurize(PROMPT, "Use reversed.").structure();
    assertThat(plain[StructureFeatures.NAMES.indexOf("has_list")]).isZero();
    assertThat(plain[StructureFeatures.NAMES.indexOf("log_words")])
        .isLessThan(f[StructureFeatures.NAMES.indexOf("log_words")]);
  }

  @Test
  void emptyTextsAreFeaturizedNotRejected() {
    var f = NgramFeaturizer.of(ModelSpec.defaults()).featurize("", "");
    assertThat(f.prompt().size()).isZero();
    assertThat(f.structure()[StructureFeatures.NAMES.indexOf("empty")]).isEqualTo(1f);
  }

  @Test
  void promptOverlapIsTheJaccardIndexOfDistinctWords() {
    String prompt = "the cat sat on the mat";
    String response = "The cat, the dog, the mat and THE hat";
    // prompt {the, cat, sat, on, mat}; response {the, cat, dog, mat, and, hat}; both 3, union 8
    float overlap =
        StructureFeatures.jaccard(
            NgramFeaturizer.Tokens.of(prompt).distinct(), NgramFeaturizer.Tokens.of(response));
    assertThat(overlap).isEqualTo(3f / 8);
    var random = new java.util.Random(5);
    for (int trial = 0; trial < 200; trial++) {
      String p = words(random, random.nextInt(30));
      String r = words(random, random.nextInt(300));
      java.util.Set<String> ps = new java.util.HashSet<>(java.util.List.of(p.split(" ")));
      java.util.Set<String> rs = new java.util.HashSet<>(java.util.List.of(r.split(" ")));
      ps.remove("");
      rs.remove("");
      java.util.Set<String> both = new java.util.HashSet<>(ps);
      both.retainAll(rs);
      float expected =
          ps.isEmpty() || rs.isEmpty()
              ? 0
              : (float) both.size() / (ps.size() + rs.size() - both.size());
      assertThat(
              StructureFeatures.jaccard(
                  NgramFeaturizer.Tokens.of(p).distinct(), NgramFeaturizer.Tokens.of(r)))
          .as("trial %d", trial)
          .isEqualTo(expected);
    }
  }

  private static String words(java.util.Random random, int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : " ").append("w").append(random.nextInt(60));
    }
    return b.toString();
  }
}
