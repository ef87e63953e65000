-- Issue 4: daily P&L on the books (equity minus equity at the end of the previous bar-time UTC day).
alter table portfolio_state add column daily_pnl numeric;
alter table portfolio_history add column daily_pnl numeric;
