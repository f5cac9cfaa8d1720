// A ReplyBudget that remembers the most its holders held at once, for the budget tests.
import { ReplyBudget } from '../../src/cgminer/budget.js';

export class WatchedBudget extends ReplyBudget {
  peak = 0;
  override take(holding: number, bytes: number): boolean {
    const given = super.take(holding, bytes);
    this.peak = Math.max(this.peak, this.heldBytes);
    return given;
  }
}
