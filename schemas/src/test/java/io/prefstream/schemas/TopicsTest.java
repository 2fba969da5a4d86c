package io.prefstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prefstream.avro.FeedbackEvent;
import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void definesEveryTopicOfTheDesignUnderTheDefaultPrefix() {
    assertThat(Topics.defaults().all())
        .extracting(Topic::name)
        .containsExactly(
            "prefstream.feedback",
            "prefstream.feedback.dlq",
            "prefstream.pairs",
            "prefstream.checkpoints",
            "prefstream.rollouts",
            "prefstream.scores",
            "prefstream.drift");
  }

  @Test
  void compactsTheRegistriesAndRetainsTheStreams() {
    Topics topics = Topics.defaults();
    assertThat(topics.checkpoints().compacted()).isTrue();
    assertThat(topics.rollouts().compacted()).isTrue();
    assertThat(topics.rollouts().partitions()).isOne();
    assertThat(topics.feedback().compacted()).isFalse();
    assertThat(topics.feedback().configs()).containsEntry("retention.ms", "604800000");
    assertThat(topics.pairs().configs())
        .containsEntry("message.timestamp.type", "LogAppendTime")
        .containsEntry("cleanup.policy", "delete");
  }

  @Test
  void appliesAConfiguredPrefixAndFindsByFullOrShortName() {
    Topics topics = Topics.withPrefix("staging.ps");
    assertThat(topics.pairs().name()).isEqualTo("staging.ps.pairs");
    assertThat(topics.find("feedback.dlq")).contains(topics.feedbackDlq());
    assertThat(topics.find("staging.ps.drift")).contains(topics.drift());
    assertThat(topics.find("prefstream.drift")).isEmpty();
  }

  @Test
  void keysFeedbackByTenantAndInteraction() {
    FeedbackEvent event = Examples.oneOfEachPayload("acme", "i-9", RecordSamples.T0).get(0);
    assertThat(Topics.defaults().feedback().key(event)).isEqualTo("acme/i-9");
    assertThat(Topics.defaults().checkpoints().key(RecordSamples.checkpoint()))
        .isEqualTo("demo/reward/3");
  }

  @Test
  void refusesAnIllegalPrefix() {
    assertThatThrownBy(() -> Topics.withPrefix("bad prefix!"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'bad prefix!'");
  }
}
