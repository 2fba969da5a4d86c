package io.prefstream.monitor.stats;

/**
 * An alert level with hysteresis: a level is entered when the value reaches its enter threshold and
 * left only when the value falls below its (lower) leave threshold, so a figure hovering at a
 * threshold does not flap between levels. For figures where lower is worse (accuracy), feed the
 * negated value and negated thresholds.
 */
public final class Hysteresis {

  /** The levels, in order. */
  public enum Level {
    OK,
    WARN,
    ALERT
  }

  private final double warnEnter;
  private final double warnLeave;
  private final double alertEnter;
  private final double alertLeave;
  private Level level = Level.OK;

  /**
   * @param warnEnter value at which WARN is entered
   * @param warnLeave value below which WARN is left (at most warnEnter)
   * @param alertEnter value at which ALERT is entered (at least warnEnter)
   * @param alertLeave value below which ALERT is left (at most alertEnter)
   */
  public Hysteresis(double warnEnter, double warnLeave, double alertEnter, double alertLeave) {
    if (!(warnLeave <= warnEnter && alertLeave <= alertEnter && warnEnter <= alertEnter)) {
      throw new IllegalArgumentException(
          String.format(
              "need warn leave ≤ warn enter ≤ alert enter and alert leave ≤ alert enter, got"
                  + " warn %s/%s, alert %s/%s",
              warnEnter, warnLeave, alertEnter, alertLeave));
    }
    this.warnEnter = warnEnter;
    this.warnLeave = warnLeave;
    this.alertEnter = alertEnter;
    this.alertLeave = alertLeave;
  }

  /** Thresholds left at {@code leaveShare} of their distance from zero (e.g. 0.8 of 0.25). */
  public static Hysteresis of(double warn, double alert, double leaveShare) {
    return new Hysteresis(warn, warn * leaveShare, alert, alert * leaveShare);
  }

  /** This hysteresis, resumed at {@code current} (e.g. the level stored for the last window). */
  public Hysteresis at(Level current) {
    this.level = current;
    return this;
  }

  /** The level after seeing {@code value}; NaN leaves it as it is. */
  public Level update(double value) {
    if (Double.isNaN(value)) {
      return level;
    }
    if (value >= alertEnter) {
      level = Level.ALERT;
    } else if (level == Level.ALERT && value >= alertLeave) {
      // stays in ALERT
    } else if (value >= warnEnter || (level != Level.OK && value >= warnLeave)) {
      level = Level.WARN;
    } else {
      level = Level.OK;
    }
    return level;
  }

  public Level level() {
    return level;
  }
}
