package io.prefstream.pairs.internal;

import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.FeedbackEvent;

/** A feedback record as read: the decoded event, or the dead letter saying why it is unusable. */
public final class FeedbackInput {

  public FeedbackEvent event;
  public DeadLetter rejected;

  public FeedbackInput() {}

  static FeedbackInput of(FeedbackEvent event) {
    FeedbackInput in = new FeedbackInput();
    in.event = event;
    return in;
  }

  static FeedbackInput rejected(DeadLetter letter) {
    FeedbackInput in = new FeedbackInput();
    in.rejected = letter;
    return in;
  }
}
