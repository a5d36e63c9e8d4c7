-- Events keep a version-neutral snapshot of their resource (the domain record: money in minor units
-- of its currency, flat fields), rendered per version by each surface's presenter. Events written
-- before this kept v1's JSON; rewrite those in place. v1 amounts always carry exactly the
-- currency's decimals, so dropping the point gives the minor units ("120.00" -> 12000).
UPDATE events SET data = (data - 'price') || jsonb_build_object(
    'nights', (data #>> '{price,nights}')::integer,
    'nightly_rate_minor', replace(data #>> '{price,nightly_rate,amount}', '.', '')::bigint,
    'total_minor', replace(data #>> '{price,total,amount}', '.', '')::bigint,
    'currency', data #>> '{price,total,currency}')
  WHERE resource_type = 'booking' AND data ? 'price';

UPDATE events SET data = (data - 'address' - 'nightly_rate') || jsonb_build_object(
    'country_code', data #> '{address,country_code}',
    'province_code', data #> '{address,province_code}',
    'city', data #> '{address,city}',
    'line1', data #> '{address,line1}',
    'nightly_rate_minor', replace(data #>> '{nightly_rate,amount}', '.', '')::bigint,
    'currency', data #>> '{nightly_rate,currency}')
  WHERE resource_type = 'listing' AND data ? 'address';
