-- name: sampling_rates
-- description: Sampling rates (Hz) of time series per modality
SELECT m.modality, r.rate, count(DISTINCT asset_id) AS files
FROM asset_facets, unnest(modalities) AS m(modality), unnest(rates) AS r(rate)
GROUP BY ALL
ORDER BY m.modality, files DESC, r.rate
