"""Early signals: case-mix adjustment, funnel positions, SPC and risk-adjusted CUSUM per organisation."""
