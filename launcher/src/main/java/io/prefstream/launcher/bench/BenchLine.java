package io.prefstream.launcher.bench;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.prefstream.schemas.JsonForm;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A benchmark's last line: {@code {"bench", "value", "unit", "baseline_name", "baseline", "ratio"}}
 * (the figure beside its baseline measured in the same run, and their ratio), then the benchmark's
 * own figures in the order they were added. Rates are rounded as printed: whole from 100 up, else
 * three significant digits.
 */
@JsonPropertyOrder({"bench", "value", "unit", "baseline_name", "baseline", "ratio"})
public final class BenchLine {

  private final String bench;
  private final double value;
  private final String unit;
  private final String baselineName;
  private final double baseline;
  private final Map<String, Object> figures = new LinkedHashMap<>();

  private BenchLine(String bench, double value, String unit, String baselineName, double baseline) {
    this.bench = bench;
    this.value = value;
    this.unit = unit;
    this.baselineName = baselineName;
    this.baseline = baseline;
  }

  /** A line of {@code value} beside {@code baseline}, both in {@code unit}. */
  public static BenchLine of(
      String bench, double value, String unit, String baselineName, double baseline) {
    return new BenchLine(bench, value, unit, baselineName, baseline);
  }

  /** A rate as printed: whole from 100 up (and 0, or not finite), else three significant digits. */
  static Number rounded(double value) {
    if (!Double.isFinite(value) || Math.abs(value) >= 100 || value == 0) {
      return Math.round(value);
    }
    return new BigDecimal(value).round(new MathContext(3)).doubleValue();
  }

  /** Adds a figure as given (a number, text, or a nested JSON value). */
  public BenchLine with(String key, Object figure) {
    figures.put(key, figure);
    return this;
  }

  /** Adds a rate, rounded as printed. */
  public BenchLine withRounded(String key, double rate) {
    return with(key, rounded(rate));
  }

  @JsonProperty("bench")
  public String bench() {
    return bench;
  }

  @JsonProperty("value")
  public Number value() {
    return rounded(value);
  }

  @JsonProperty("unit")
  public String unit() {
    return unit;
  }

  @JsonProperty("baseline_name")
  public String baselineName() {
    return baselineName;
  }

  @JsonProperty("baseline")
  public Number baseline() {
    return rounded(baseline);
  }

  /** value / baseline, to 3 decimals. */
  @JsonProperty("ratio")
  public double ratio() {
    return Math.round(value / baseline * 1000) / 1000.0;
  }

  /** The benchmark's own figures, after the head, in the order added. */
  @JsonAnyGetter
  public Map<String, Object> figures() {
    return Collections.unmodifiableMap(figures);
  }

  /** The JSON line. */
  public String toJson() {
    try {
      return JsonForm.mapper().writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a bench line is always JSON", e);
    }
  }

  @Override
  public String toString() {
    return toJson();
  }
}
