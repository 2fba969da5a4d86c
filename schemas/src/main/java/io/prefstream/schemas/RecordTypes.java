package io.prefstream.schemas;

import io.prefstream.avro.CheckpointPublished;
import io.prefstream.avro.DeadLetter;
import io.prefstream.avro.DriftReport;
import io.prefstream.avro.FeedbackEvent;
import io.prefstream.avro.PreferencePair;
import io.prefstream.avro.RolloutState;
import io.prefstream.avro.ScoreRecord;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;

/** The top-level records that travel on topics: each one is encoded on its own and versioned. */
public final class RecordTypes {

  /** Every top-level record type, in data-flow order. */
  public static final List<Class<? extends SpecificRecord>> ALL =
      List.of(
          FeedbackEvent.class,
          DeadLetter.class,
          PreferencePair.class,
          CheckpointPublished.class,
          RolloutState.class,
          ScoreRecord.class,
          DriftReport.class);

  /** The package of the classes generated from prefstream's schemas. */
  public static final String GENERATED_PACKAGE = "io.prefstream.avro";

  static {
    // Avro 1.12 instantiates only trusted classes by name; ours are generated from our schemas.
    ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(
        type -> GENERATED_PACKAGE.equals(type.getPackageName()) || previous.isTrusted(type));
  }

  private RecordTypes() {}

  /** The current (reader) schema of a generated record class. */
  public static Schema schemaOf(Class<? extends SpecificRecord> type) {
    return SpecificData.getForClass(type).getSchema(type);
  }
}
